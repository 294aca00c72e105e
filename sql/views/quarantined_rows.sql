-- One row per quarantined input row: every reason and field that sent it there.
select
    file_id,
    source_file,
    source_row,
    any_value(episode_id) as episode_id,
    string_agg(distinct reason, '; ' order by reason) as reason,
    string_agg(distinct field, '; ' order by field) as field,
from quarantine
group by file_id, source_file, source_row
