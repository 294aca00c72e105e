-- What run $run_id changed in the standing position: each finding of an episode the run
-- judged (assessed, or delivered anew by the files it reports: an episode re-delivered with
-- no code a rule applies to has no findings now), set against the episode's assessment
-- before it (the latest earlier run that assessed it, as latest_assessments picks), where
-- the outcome differs: a new finding (none before at that rule and position), resolved
-- (needed action before, not now, or no longer found), outcome changed, or no longer found.
-- Narrowed as the report is ($since, $provider, $financial_year). Findings the run left as
-- they were are not listed; a code re-coded at another position shows at both.
with

this_run as (
    select * from assessments where run_id = $run_id
),

judged as (
    select episode_id from this_run
    union
    select episodes.episode_id
    from episodes
    inner join input_files using (file_id)
    where input_files.run_id in (select run_id from reported_runs($run_id))
),

before as (
    select assessments.*
    from assessments
    semi join judged using (episode_id)
    where assessments.run_id < $run_id
    qualify assessments.run_id = max(assessments.run_id) over (partition by episode_id)
),

compared as (
    select
        rule_id,
        episode_id,
        position,
        coalesce(this_run.provider_code, before.provider_code) as provider_code,
        coalesce(this_run.episode_end_date, before.episode_end_date) as episode_end_date,
        before.procedure_code as code_before,
        before.outcome as outcome_before,
        this_run.procedure_code as code_now,
        this_run.outcome as outcome_now,
        coalesce(this_run.needs_action, false) as needs_action_now,
        case
            when before.outcome is null then 'new finding'
            when before.needs_action and not coalesce(this_run.needs_action, false)
                then 'resolved'
            when this_run.outcome is null then 'no longer found'
            else 'outcome changed'
        end as change,
    from this_run
    full join before using (rule_id, episode_id, position)
    where before.outcome is distinct from this_run.outcome
)

select * from compared
semi join rule_catalogue using (rule_id)
where in_report_scope(provider_code, episode_end_date, $since, $provider, $financial_year)
order by rule_id, change, episode_id, position
