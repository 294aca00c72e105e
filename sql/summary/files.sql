-- The files the run reports ($run_id and the runs it took over, reported_runs): their counts.
select
    file_name,
    file_kind,
    file_format,
    sha256,
    rows_read,
    rows_loaded,
    rows_quarantined,
    rows_unchanged,
from input_files
where run_id in (select run_id from reported_runs($run_id))
order by file_id
