-- One row per run, newest first: when, how it ended, its counts and how long it took. The
-- source of `liver-audit history` and of the report's list of runs. Counts only; compliance
-- is per rule (rule_history).
select
    runs.run_id,
    runs.started_at,
    runs.finished_at,
    runs.status,
    runs.catalogue_version,
    runs.rows_read,
    runs.rows_loaded,
    runs.rows_quarantined,
    runs.procedures_assessed,
    round(epoch(runs.finished_at - runs.started_at), 1) as seconds,
from runs
order by started_at desc, run_id desc
