-- One row per episode whose codes the code checks judge (the setting code_check_scope), with
-- its provider and dates: the episodes to assess (liver_episodes, the default), or every
-- episode a file to assess loaded and the episodes to assess besides (all_episodes: a
-- national data-quality check). liver_episode: one of the episodes to assess; outside them
-- only the findings that need action are recorded (sql/recorded_judgements.sql).
select *, true as liver_episode
from episodes_to_assess

union all

select
    episodes.episode_id,
    episodes.provider_code,
    episodes.admission_date,
    episodes.episode_start_date,
    episodes.episode_end_date,
    episodes.file_id,
    false as liver_episode,
from episodes
anti join episodes_to_assess using (episode_id)
where (select code_check_scope from assessment_settings) = 'all_episodes'
    and episodes.file_id in (select file_id from files_to_assess)
