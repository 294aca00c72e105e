-- One row per (run, rule): the findings the run made with the rule, how many were compliant
-- (an outcome of severity pass) and how many need a coder's action. The source of the
-- per-rule lines of `liver-audit history` and of the report's trend. Counts only.
select
    runs.run_id,
    runs.started_at,
    runs.status,
    run_outcomes.rule_id,
    sum(run_outcomes.findings) as findings,
    coalesce(sum(run_outcomes.findings) filter (where run_outcomes.severity = 'pass'), 0) as compliant,
    coalesce(sum(run_outcomes.findings) filter (where run_outcomes.needs_action), 0) as needing_action,
    round(
        100.0 * coalesce(sum(run_outcomes.findings) filter (where run_outcomes.severity = 'pass'), 0)
        / nullif(sum(run_outcomes.findings), 0), 1
    ) as percent_compliant,
from run_outcomes
inner join runs using (run_id)
group by all
order by runs.started_at desc, runs.run_id desc, run_outcomes.rule_id
