-- The rows of one file of a long delivery ($staged: its staged table) whose episode the
-- warehouse already holds in the same version: they stay as held (the file's rows_unchanged).
select count(*)
from query_table($staged) as staged
where staged.episode_id in (
    select loaded_rows.episode_id
    from loaded_rows
    semi join unchanged_rows using (source_row)
)
