-- The latest run that wrote audit files, and its summary (counts only): what
-- `liver-audit report` reports the position as of.
select run_id, summary,
from runs
where audit_files is not null and summary is not null
order by started_at desc, run_id desc
limit 1
