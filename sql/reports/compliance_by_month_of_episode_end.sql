-- Of the procedures in the warehouse as it now stands (latest assessments), the share
-- compliant by month of episode end: when the activity happened, whichever run assessed it.
select
    strftime(episode_end_date, '%Y-%m') as month,
    100.0 * avg((outcome = 'compliant')::int) as percent_compliant,
    count(*) as assessed,
from latest_assessments
where episode_end_date is not null
group by month
order by month
