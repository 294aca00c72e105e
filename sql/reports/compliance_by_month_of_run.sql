-- The trend, per rule: of the findings the runs of each month made with the rule, the share
-- compliant (severity pass), across the warehouse's run history (rule_history).
-- $run_id is the run writing the report: it counts before it is marked completed.
select
    rule_id,
    strftime(started_at, '%Y-%m') as month,
    100.0 * sum(compliant) / sum(findings) as percent_compliant,
    sum(findings) as findings,
from rule_history
where (status = 'completed' or run_id = $run_id)
    and findings > 0
group by rule_id, month
order by rule_id, month
