-- One row per (episode, position, ICD-10 code) of the episodes in scope (episodes_in_scope):
-- those of the episodes to assess and, with code_check_scope all_episodes, every diagnosis
-- the files to assess loaded (an episode's diagnoses carry the file_id of the file that
-- delivered it, as the episode does). Found by file, not by joining every episode of a
-- national year: 80 million diagnoses probe a handful of files and liver episodes.
select diagnoses.*
from diagnoses
semi join episodes_to_assess using (episode_id)

union all

select diagnoses.*
from diagnoses
semi join files_to_assess using (file_id)
anti join episodes_to_assess using (episode_id)
where (select code_check_scope from assessment_settings) = 'all_episodes'
