-- Stable view: one row per input row that was not loaded, with every reason and field.
select
    input_files.run_id,
    quarantined_rows.source_file,
    quarantined_rows.source_row,
    quarantined_rows.episode_id,
    quarantined_rows.reason,
    quarantined_rows.field,
from main.quarantined_rows
inner join main.input_files using (file_id)
