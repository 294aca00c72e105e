-- The most recent runs, as `liver-audit history` and the report list them (counts only).
select
    run_id,
    strftime(started_at, '%Y-%m-%d %H:%M') as started_utc,
    status,
    rows_read,
    rows_loaded,
    rows_quarantined,
    procedures_assessed,
    percent_compliant,
    seconds,
from run_history
order by started_at desc, run_id desc
limit $limit
