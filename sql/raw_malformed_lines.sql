-- One row per line DuckDB's reader set aside (raw_rejects): its data row and the errors
-- found in it (DuckDB may record several errors for one line). Inserted into the file's
-- table of malformed lines (liver_audit/extracts.py).
select line - 1, string_agg(distinct error_type::varchar, '; ')
from raw_rejects
group by line
