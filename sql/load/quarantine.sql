-- Inserts into quarantine one row per failed check of the file's staged rows (the checks
-- registered as `failures`, with the source field each names) and one per malformed line
-- ($malformed: the file's table of them). $staged: the file kind's first staged table, one row per source row.
insert into quarantine
select $file_id, $file_name, failures.source_row, staged.episode_id, failures.reason,
    failures.field, failures.value
from failures
left join query_table($staged) as staged on staged.source_row = failures.source_row
union all
select $file_id, $file_name, source_row, null, 'line_malformed', null, error_type
from query_table($malformed)
