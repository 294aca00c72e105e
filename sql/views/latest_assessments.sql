-- One row per finding of each episode as the warehouse now holds it, for each rule of the
-- catalogue it holds: the rows of the latest run that assessed the episode (a run assesses
-- an episode with every rule, so a rule that no longer finds anything in it leaves no old
-- row behind), provided that run saw its current version (a newer delivery without the
-- assessed code, or with other positions, replaces the old rows). Findings of rules no
-- longer in the catalogue stay in assessments, as history, and leave this view.
with

current_versions as (
    select episodes.episode_id, input_files.run_id as loaded_by_run
    from episodes
    inner join input_files on input_files.file_id = episodes.file_id
),

final as (
    select assessments.*
    from assessments
    semi join rule_catalogue using (rule_id)
    inner join current_versions on current_versions.episode_id = assessments.episode_id
    where assessments.run_id >= current_versions.loaded_by_run
    qualify assessments.run_id = max(assessments.run_id) over (
        partition by assessments.episode_id
    )
)

select * from final
