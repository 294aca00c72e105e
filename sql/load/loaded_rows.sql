-- One row per source row of the file that loads, with its episode: every row not
-- quarantined. $staged: the file kind's first staged table, one row per source row.
select source_row, episode_id
from query_table($staged)
anti join quarantined_source_rows using (source_row)
