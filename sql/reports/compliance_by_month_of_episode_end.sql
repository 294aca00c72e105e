-- Per rule, of the findings the warehouse now holds (latest assessments), the share
-- compliant (severity pass) by month of episode end: when the activity happened, whichever
-- run assessed it.
select
    rule_id,
    strftime(episode_end_date, '%Y-%m') as month,
    100.0 * avg((severity = 'pass')::int) as percent_compliant,
    count(*) as findings,
from latest_assessments
where episode_end_date is not null
group by rule_id, month
order by rule_id, month
