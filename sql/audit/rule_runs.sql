-- Stable view: one row per (run, rule), newest first: the findings the run made with the rule,
-- how many compliant (an outcome of severity pass), how many need action (counts only).
select
    run_id,
    started_at,
    status,
    rule_id,
    findings,
    compliant,
    needing_action,
    percent_compliant,
from main.rule_history
order by started_at desc, run_id desc, rule_id
