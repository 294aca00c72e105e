-- Inserts into raw_malformed_lines one row per line DuckDB's reader set aside (raw_rejects):
-- its data row and the errors found in it (DuckDB may record several errors for one line).
insert into raw_malformed_lines
select line - 1, string_agg(distinct error_type::varchar, '; ')
from raw_rejects
group by line
