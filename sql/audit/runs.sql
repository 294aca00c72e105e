-- Stable view: one row per run, newest first (counts only), as `liver-audit history` shows.
select
    run_history.*,
    runs.error,
    runs.taken_over_by,
from main.run_history
inner join main.runs using (run_id)
order by run_history.started_at desc, run_history.run_id desc
