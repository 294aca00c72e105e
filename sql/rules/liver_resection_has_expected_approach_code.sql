-- One row per J02.3/J02.4 procedure of the files to assess (assessment_scope): its
-- qualifier run, approach codes, documented approach and outcome (NICE IPG135; decision table
-- in the README).
-- Codes and the expected-code map come from the catalogue (data/rules/catalogue.toml).
with

rule_codes as (
    select * from rule_codes
    where rule_id = 'liver_resection_has_expected_approach_code'
),

-- The episodes with a J023/J024 that the files to assess (assessment_scope: file ids) loaded or
-- documented in theatre; found from the few assessed codes first, so the rest reads few rows.
liver_episodes as (
    select distinct procedures.episode_id
    from procedures
    inner join rule_codes
        on rule_codes.role = 'assessed_procedure' and rule_codes.code = procedures.procedure_code
    where procedures.file_id in (select file_id from assessment_scope)
        or procedures.episode_id in (
            select episode_id from theatre_records
            where file_id in (select file_id from assessment_scope)
        )
),

scoped_procedures as (
    select procedures.*
    from procedures
    semi join liver_episodes on procedures.episode_id = liver_episodes.episode_id
),

flagged_procedures as (
    select
        scoped_procedures.episode_id,
        scoped_procedures.position,
        scoped_procedures.procedure_code,
        scoped_procedures.procedure_date,
        exists (
            select 1 from rule_codes
            where role = 'qualifier_chapter' and code = left(scoped_procedures.procedure_code, 1)
        ) as is_qualifier,
        exists (
            select 1 from rule_codes
            where role = 'approach' and code = scoped_procedures.procedure_code
        ) as is_approach,
        exists (
            select 1 from rule_codes
            where role = 'recommended_approach' and code = scoped_procedures.procedure_code
        ) as is_recommended,
        exists (
            select 1 from rule_codes
            where role = 'assessed_procedure' and code = scoped_procedures.procedure_code
        ) as is_assessed,
    from scoped_procedures
),

-- A code outside Chapters Y/Z opens a block and the Y/Z codes after it join that block,
-- so a procedure's qualifier run is the rest of its block. Empty positions and sentinels
-- are not in procedures, so a gap does not break a run.
blocked_procedures as (
    select
        *,
        sum(case when is_qualifier then 0 else 1 end) over (
            partition by episode_id order by position rows between unbounded preceding and current row
        ) as block,
        count(*) filter (where is_recommended) over (partition by episode_id)
            as recommended_on_episode,
    from flagged_procedures
),

qualifier_runs as (
    select
        resection.episode_id,
        resection.position,
        resection.procedure_code,
        resection.procedure_date,
        resection.recommended_on_episode,
        string_agg(run.procedure_code, ' ' order by run.position) as qualifier_codes,
        string_agg(run.procedure_code, ' ' order by run.position) filter (where run.is_approach)
            as approach_code,
        list(run.procedure_code order by run.position) filter (where run.is_approach)
            as approach_codes,
        count(run.procedure_code) filter (where run.is_recommended) as recommended_in_run,
    from blocked_procedures as resection
    left join blocked_procedures as run
        on run.episode_id = resection.episode_id
        and run.block = resection.block
        and run.position > resection.position
    where resection.is_assessed
    group by all
),

documented as (
    select
        qualifier_runs.*,
        documented_approaches.documented_approach,
        coalesce(documented_approaches.documentation_status, 'none') as documentation_status,
        expected.code as expected_approach_code,
        coalesce(len(qualifier_runs.approach_codes), 0) as approach_codes_in_run,
        qualifier_runs.recommended_on_episode > qualifier_runs.recommended_in_run
            as has_recommended_elsewhere,
    from qualifier_runs
    left join documented_approaches
        on documented_approaches.episode_id = qualifier_runs.episode_id
    left join rule_codes as expected
        on expected.role = 'expected_approach'
        and expected.approach = documented_approaches.documented_approach
),

assessed as (
    select
        *,
        case
            -- open surgery documented: no approach code is right
            when documented_approach = 'open' then
                case when approach_codes_in_run > 0 then 'wrong_approach_code' else 'open_procedure' end
            when documented_approach is not null then
                case
                    when list_contains(approach_codes, expected_approach_code) then 'compliant'
                    when approach_codes_in_run > 0 then 'wrong_approach_code'
                    when has_recommended_elsewhere then 'misplaced_approach_code'
                    else 'missing_approach_code'
                end
            else
                case
                    when recommended_in_run > 0 then 'compliant'
                    when approach_codes_in_run > 0 then 'non_standard_approach_code'
                    when has_recommended_elsewhere then 'misplaced_approach_code'
                    else 'open_procedure'
                end
        end as outcome,
    from documented
),

final as (
    select
        'liver_resection_has_expected_approach_code' as rule_id,
        assessed.episode_id,
        assessed.position,
        assessed.procedure_code,
        assessed.qualifier_codes,
        assessed.approach_code,
        assessed.documented_approach,
        assessed.documentation_status,
        assessed.expected_approach_code,
        assessed.outcome,
        rule_outcomes.severity,
        episodes.provider_code,
        episodes.admission_date,
        episodes.episode_start_date,
        episodes.episode_end_date,
        assessed.procedure_date,
    from assessed
    inner join episodes on episodes.episode_id = assessed.episode_id
    left join rule_outcomes on rule_outcomes.outcome = assessed.outcome
)

select * from final
order by episode_id, position
