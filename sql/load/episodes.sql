-- Inserts into episodes one row per replaced episode.
insert into episodes
select episode_id, $file_id, source_row, provider_code, admission_date, episode_start_date,
    episode_end_date, sex, start_age, primary_diagnosis_code, version_hash
from stg_episodes
semi join replaced_rows using (source_row)
