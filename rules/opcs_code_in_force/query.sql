-- One finding per code of an episode in the code checks' scope (episodes_in_scope: those
-- with a liver procedure, J01-J12, or every episode), at every position, a pass only for
-- the episodes to assess: is it a code of the OPCS-4 version in force on its day? The lists held
-- (opcs4_code_versions) are OPCS-4.9, 4.10 and, in part, 4.11; a day under an earlier
-- version is checked against the earliest list held; a code with no day only against all.
with

held as (
    select version, rank from opcs_versions
    semi join (select distinct version from opcs4_code_versions) using (version)
),

-- Per version in force, the list its day is checked against: that version's, or the
-- earliest held for a day before it (checked_rank: no version, no day, is checked against all).
checked_against as (
    select
        in_force.version as opcs_version,
        (select min_by(held.version, held.rank) from held where held.rank >= in_force.rank)
            as checked_version,
        greatest(in_force.rank, (select min(rank) from held)) as checked_rank,
    from opcs_versions as in_force
),

-- Each code judged once per version in force it is found under (a national year has about
-- 100 million procedures and some 10,000 distinct codes).
membership as (
    select
        codes.procedure_code,
        codes.opcs_version,
        any_value(checked_against.checked_version) as checked_version,
        coalesce(any_value(checked_against.checked_rank), -1) as checked_rank,
        bool_or(holding.rank = coalesce(checked_against.checked_rank, -1)) as in_checked,
        min(holding.rank) as first_rank,
        max(holding.rank) as last_rank,
        min_by(holding.version, holding.rank) as first_version,
    from (select distinct procedure_code, opcs_version from procedures_in_scope) as codes
    left join checked_against using (opcs_version)
    left join opcs4_code_versions as code_versions
        on code_versions.code = codes.procedure_code
    left join held as holding on holding.version = code_versions.version
    group by codes.procedure_code, codes.opcs_version
),

code_judgements as (
    select
        procedure_code,
        opcs_version,
        checked_version,
        case
            when first_rank is null then 'code_not_in_reference'
            when checked_rank = -1 or in_checked then 'code_in_force'
            when first_rank > checked_rank then 'code_not_yet_in_force'
            when last_rank < checked_rank then 'code_retired'
            else 'code_not_in_reference'
        end as outcome,
        first_version,
        (select min_by(version, rank) from held where held.rank > membership.last_rank)
            as retired_by,
    from membership
),

judged as (
    select
        procedures_in_scope.episode_id,
        procedures_in_scope.position,
        procedures_in_scope.procedure_code,
        procedures_in_scope.version_day,
        code_judgements.* exclude (procedure_code, opcs_version),
    from procedures_in_scope
    inner join code_judgements
        on code_judgements.procedure_code = procedures_in_scope.procedure_code
        and code_judgements.opcs_version is not distinct from procedures_in_scope.opcs_version
    -- Outside the episodes to assess only what is not a pass is recorded
    -- (sql/recorded_judgements.sql): left out here, before a national year's messages are written.
    where procedures_in_scope.liver_episode or code_judgements.outcome <> 'code_in_force'
),

final as (
    select
        episode_id,
        position,
        procedure_code,
        outcome,
        null::varchar as expected_codes,
        procedure_code as found_codes,
        opcs_dotted(procedure_code) || ' at position ' || position || case outcome
            when 'code_in_force' then ' is a code of ' || coalesce(checked_version, 'an OPCS-4 version held')
            when 'code_retired' then ' was retired in ' || retired_by || ', before '
                || version_day || ' (' || checked_version || '): code it as that version does'
            when 'code_not_yet_in_force' then ' came with ' || first_version || ', after '
                || version_day || ' (' || checked_version || '): check the code and the date'
            else ' is in no OPCS-4 list held (4.9, 4.10, 4.11 in part): check the code'
        end as message,
        case when outcome in ('code_retired', 'code_not_yet_in_force') then 'PRule 6'
            else 'OPCS-4 versions' end
            as standard,
    from judged
)

select * from final
