-- Stable view: one row per episode as the warehouse now holds it (the latest delivery).
select
    episodes.episode_id,
    episodes.provider_code,
    episodes.admission_date,
    episodes.episode_start_date,
    episodes.episode_end_date,
    episodes.sex,
    episodes.start_age,
    episodes.primary_diagnosis_code,
    input_files.file_name as source_file,
    episodes.source_row,
    input_files.run_id as loaded_by_run,
from main.episodes
inner join main.input_files using (file_id)
