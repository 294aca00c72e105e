-- One row per finding of each episode as the warehouse now holds it, for each rule of the
-- catalogue it holds: the rows of the latest run that assessed the episode (a run assesses
-- an episode with every rule, so a rule that no longer finds anything in it leaves no old
-- row behind), provided that run saw its current version (a newer delivery without the
-- assessed code, or with other positions, replaces the old rows) and no later run assessed
-- its file without finding anything in it (code_check_scope = all_episodes records no pass
-- outside liver episodes: a code corrected by a new catalogue leaves no row). Findings of
-- rules no longer in the catalogue stay in assessments, as history, and leave this view.
with

last_assessed as (
    select file_id, max(run_id) as run_id from assessed_files group by file_id
),

current_versions as (
    select
        episodes.episode_id,
        greatest(input_files.run_id, last_assessed.run_id) as current_since,
    from episodes
    inner join input_files on input_files.file_id = episodes.file_id
    left join last_assessed on last_assessed.file_id = episodes.file_id
),

final as (
    select assessments.*
    from assessments
    semi join rule_catalogue using (rule_id)
    inner join current_versions on current_versions.episode_id = assessments.episode_id
    where assessments.run_id >= current_versions.current_since
    qualify assessments.run_id = max(assessments.run_id) over (
        partition by assessments.episode_id
    )
)

select * from final
