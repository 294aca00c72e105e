-- One row per loaded source row whose episode the warehouse already holds in the same
-- version (the same version_hash): its episode, procedures and assessments stay.
select loaded_rows.source_row
from loaded_rows
inner join stg_episodes using (source_row)
inner join episodes
    on episodes.episode_id = loaded_rows.episode_id
    and episodes.version_hash = stg_episodes.version_hash
