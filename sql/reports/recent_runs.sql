-- The most recent runs, as `liver-audit history` and the report list them (counts only),
-- with each rule's share of compliant findings in the run ("rule 87.5%; ...").
with

per_rule as (
    select
        run_id,
        string_agg(rule_id || ' ' || coalesce(percent_compliant::varchar || '%', 'n/a')
            || ' of ' || findings, '; ' order by rule_id) as compliance_by_rule,
    from rule_history
    group by run_id
)

select
    run_history.run_id,
    strftime(run_history.started_at, '%Y-%m-%d %H:%M') as started_utc,
    run_history.status,
    run_history.rows_read,
    run_history.rows_loaded,
    run_history.rows_quarantined,
    run_history.procedures_assessed,
    per_rule.compliance_by_rule,
    run_history.seconds,
from run_history
left join per_rule using (run_id)
order by run_history.started_at desc, run_history.run_id desc
limit $limit
