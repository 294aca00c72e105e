-- Per rule and quarter of the financial year of the episode's end (Q1 April-June), of the
-- report's position: the findings behind the rate, how many compliant, and the rate.
select
    rule_id,
    quarter,
    count(*) as findings,
    count(*) filter (where compliant) as compliant,
    round(100.0 * count(*) filter (where compliant) / count(*), 1) as percent_compliant,
from position
where episode_end_date is not null
group by all
order by all
