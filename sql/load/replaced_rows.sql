-- One row per loaded source row whose episode replaces what the warehouse held for it.
select * from loaded_rows anti join unchanged_rows using (source_row)
