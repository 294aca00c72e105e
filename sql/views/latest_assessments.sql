-- One row per assessed procedure of each episode as the warehouse now holds it: the rows of
-- the latest run that assessed the episode, provided that run saw its current version (a
-- newer delivery without a J02.3/J02.4, or with other positions, replaces the old rows).
with

current_versions as (
    select episodes.episode_id, input_files.run_id as loaded_by_run
    from episodes
    inner join input_files on input_files.file_id = episodes.file_id
),

final as (
    select assessments.*
    from assessments
    inner join current_versions on current_versions.episode_id = assessments.episode_id
    where assessments.run_id >= current_versions.loaded_by_run
    qualify assessments.run_id = max(assessments.run_id) over (
        partition by assessments.rule_id, assessments.episode_id
    )
)

select * from final
