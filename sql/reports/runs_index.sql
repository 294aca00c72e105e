-- Every run, newest first, for reports/index.html (counts only): when, how it ended, what it
-- read and assessed, the folder of its audit files (none when it found nothing new, or
-- failed), and the run that reported what a failed or killed run loaded.
select
    run_id,
    strftime(started_at, '%Y-%m-%d %H:%M') as started_utc,
    status,
    rows_read,
    rows_loaded,
    rows_quarantined,
    procedures_assessed,
    audit_files,
    taken_over_by,
from runs
order by started_at desc, run_id desc
