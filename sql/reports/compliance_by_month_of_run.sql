-- The trend: of the procedures assessed by the runs of each month, the share compliant,
-- across the warehouse's run history (run_history: what `liver-audit history` shows).
-- $run_id is the run writing the report: it counts before it is marked completed.
select
    strftime(started_at, '%Y-%m') as month,
    100.0 * sum(compliant) / sum(procedures_assessed) as percent_compliant,
    sum(procedures_assessed) as assessed,
from run_history
where (status = 'completed' or run_id = $run_id)
    and procedures_assessed > 0
    and compliant is not null
group by month
order by month
