-- quarantine.csv: one row per quarantined input row of the files the run reports, its
-- reasons, fields and values in matching order.
select
    quarantine.source_file,
    quarantine.source_row,
    any_value(quarantine.episode_id) as episode_id,
    string_agg(quarantine.reason, '; ' order by quarantine.reason, quarantine.field) as reason,
    string_agg(coalesce(quarantine.field, ''), '; ' order by quarantine.reason, quarantine.field) as field,
    string_agg(coalesce(quarantine.value, ''), '; ' order by quarantine.reason, quarantine.field) as value,
from quarantine
inner join input_files using (file_id)
where input_files.run_id in (select run_id from reported_runs($run_id))
group by quarantine.file_id, quarantine.source_file, quarantine.source_row
order by quarantine.file_id, quarantine.source_row
