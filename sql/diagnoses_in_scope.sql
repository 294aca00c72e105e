-- One row per (episode, position, ICD-10 code) of the episodes in scope (episodes_in_scope),
-- with liver_episode (one of the episodes to assess): those of the episodes to assess and,
-- with code_check_scope all_episodes, every diagnosis the files to assess loaded (an
-- episode's diagnoses carry the file_id of the file that delivered it, as the episode does).
-- Found by file, not by joining every episode of a national year: 80 million diagnoses are
-- scanned once, probing a handful of files and liver episodes.
select diagnoses.*, true as liver_episode,
from diagnoses
semi join (
    -- (all_episodes: those a file to assess did not load, but whose theatre record it delivered)
    select episode_id from episodes_to_assess
    where (select code_check_scope from assessment_settings) <> 'all_episodes'
        or file_id not in (select file_id from files_to_assess)
) using (episode_id)

union all

select
    diagnoses.*,
    diagnoses.episode_id in (select episode_id from episodes_to_assess) as liver_episode,
from diagnoses
where (select code_check_scope from assessment_settings) = 'all_episodes'
    and diagnoses.file_id in (select file_id from files_to_assess)
