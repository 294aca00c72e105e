-- One finding per code of an episode in the code checks' scope (episodes_in_scope: those
-- with a liver procedure, J01-J12, or every episode), at every position: is it a code of
-- the OPCS-4 version in force on its day? The lists held
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

checked as (
    select
        procedures_in_scope.episode_id,
        procedures_in_scope.position,
        procedures_in_scope.procedure_code,
        procedures_in_scope.version_day,
        checked_against.checked_version,
        coalesce(checked_against.checked_rank, -1) as checked_rank,
    from procedures_in_scope
    left join checked_against using (opcs_version)
),

-- Each code judged once per list it is checked against (a national year has about 100
-- million procedures and some 10,000 distinct codes).
membership as (
    select
        codes.procedure_code,
        codes.checked_rank,
        bool_or(holding.rank = codes.checked_rank) as in_checked,
        min(holding.rank) as first_rank,
        max(holding.rank) as last_rank,
        min_by(holding.version, holding.rank) as first_version,
    from (select distinct procedure_code, checked_rank from checked) as codes
    left join opcs4_code_versions as code_versions
        on code_versions.code = codes.procedure_code
    left join held as holding on holding.version = code_versions.version
    group by codes.procedure_code, codes.checked_rank
),

judged as (
    select
        checked.*,
        case
            when first_rank is null then 'code_not_in_reference'
            when checked.checked_rank = -1 or in_checked then 'code_in_force'
            when first_rank > checked.checked_rank then 'code_not_yet_in_force'
            when last_rank < checked.checked_rank then 'code_retired'
            else 'code_not_in_reference'
        end as outcome,
        first_version,
        (select min_by(version, rank) from held where held.rank > membership.last_rank)
            as retired_by,
    from checked
    inner join membership using (procedure_code, checked_rank)
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
