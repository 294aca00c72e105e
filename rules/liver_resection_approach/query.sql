-- One finding per J02.3/J02.4 of the episodes to assess: what theatre documents, the codes
-- in the procedure's run of Chapter Y/Z codes, and the outcome (decision table in cases.md).
-- Reads procedures_to_assess, documented_approaches and this rule's code lists (rules/README.md).
with

rule_lists as (
    select
        list(code) filter (where list = 'assessed') as assessed,
        list(code) filter (where list = 'minimal_access') as minimal_access,
        list(code) filter (where list = 'standard_minimal_access') as standard_minimal_access,
        list(code) filter (where list = 'failed_approach') as failed_approach,
        list(code) filter (where list = 'standard_conversion') as standard_conversion,
    from rule_codes
    where rule_id = $rule_id
),

-- Each assessed procedure with its run (procedures_to_assess.run_codes, rules/README.md).
runs as (
    select episode_id, position, procedure_code, opcs_version_assumed, run_codes,
    from procedures_to_assess
    cross join rule_lists
    where list_contains(rule_lists.assessed, procedure_code)
),

-- The approach and failed-approach codes of each episode, to find them outside a run, each
-- with the procedure whose run it is in (none before any procedure).
episode_approach_codes as (
    select
        episode_id,
        list((position, procedure_code, owner_code, owner_position) order by position) as codes,
    from procedures_to_assess
    cross join rule_lists
    where list_contains(rule_lists.minimal_access, procedure_code)
        or list_contains(rule_lists.failed_approach, procedure_code)
    group by episode_id
),

-- Codes first in force in a later version (code_maps.in_force): code -> its versions.
in_force as (
    select map_from_entries(list((code, versions))) as in_force
    from (
        select code, list(opcs_version) as versions
        from rule_code_maps
        where rule_id = $rule_id and map = 'in_force'
        group by code
    )
),

judged as (
    select
        runs.*,
        coalesce(documented_approaches.documentation_status, 'none') as documentation_status,
        documented_approaches.documented_approach,
        expected.code as expected_code,
        list_filter(runs.run_codes, lambda c: list_contains(rule_lists.minimal_access, c))
            as minimal_access_found,
        list_filter(runs.run_codes, lambda c: list_contains(rule_lists.failed_approach, c))
            as failed_found,
        -- in the order coded
        list_filter(
            runs.run_codes,
            lambda c: list_contains(rule_lists.minimal_access, c) or list_contains(rule_lists.failed_approach, c)
        ) as approach_found,
        list_filter(
            runs.run_codes,
            lambda c: not coalesce(list_contains(in_force.in_force[c], runs.opcs_version_assumed), true)
        ) as not_in_force_found,
        list_filter(
            coalesce(episode_approach_codes.codes, []),
            lambda p: p[4] is distinct from runs.position
        ) as elsewhere,
        rule_lists.standard_minimal_access,
        rule_lists.standard_conversion,
        in_force.in_force,
    from runs
    cross join rule_lists
    cross join in_force
    left join documented_approaches using (episode_id)
    left join episode_approach_codes using (episode_id)
    left join rule_code_maps as expected
        on expected.rule_id = $rule_id
        and expected.map = 'expected'
        and expected.key = documented_approaches.documented_approach
        and expected.opcs_version = runs.opcs_version_assumed
),

-- Undocumented, the standard codes are those in force: Y72.1 only from OPCS-4.10.
standards_in_force as (
    select
        judged.*,
        list_filter(
            standard_minimal_access || standard_conversion,
            lambda c: coalesce(list_contains(in_force[c], opcs_version_assumed), true)
        ) as standard_codes,
        list_transform(elsewhere, lambda p: p[2]) as elsewhere_codes,
        len(minimal_access_found) + len(failed_found) as approach_codes_found,
    from judged
),

assessed as (
    select
        *,
        case
            when len(not_in_force_found) > 0 then 'approach_code_not_in_force'
            -- documented open: any approach code is wrong, however many (issue 13's table)
            when documented_approach = 'open' then
                case when approach_codes_found > 0 then 'wrong_approach_code' else 'open_procedure' end
            when (len(failed_found) > 0 and len(minimal_access_found) > 0)
                or len(list_distinct(minimal_access_found)) > 1
                or len(list_distinct(failed_found)) > 1
                then 'conflicting_approach_codes'
            when documented_approach is not null then
                case
                    when list_contains(run_codes, expected_code) then 'compliant'
                    when approach_codes_found > 0 then 'wrong_approach_code'
                    when list_contains(elsewhere_codes, expected_code) then 'misplaced_approach_code'
                    else 'missing_approach_code'
                end
            else
                case
                    when list_has_any(minimal_access_found || failed_found, standard_codes) then 'compliant'
                    when approach_codes_found > 0 then 'non_standard_approach_code'
                    when list_has_any(elsewhere_codes, standard_codes) then 'misplaced_approach_code'
                    else 'open_procedure'
                end
        end as outcome,
        opcs_dotted(procedure_code) || ' at position ' || position || ': ' || case documentation_status
            when 'documented' then 'theatre says ' || replace(documented_approach, '_', ' ')
            when 'unknown_approach' then 'theatre''s approach text is not in the synonym table'
            when 'conflicting' then 'theatre records disagree on the approach'
            else 'no theatre record'
        end as documented_text,
        opcs_dotted_list(list_filter(approach_found, lambda c, i: list_position(approach_found, c) = i)) as found_text,
        -- the first code elsewhere that the outcome misplaced_approach_code points to
        list_filter(
            elsewhere,
            lambda p: p[2] = expected_code or (expected_code is null and list_contains(standard_codes, p[2]))
        )[1] as misplaced,
    from standards_in_force
),

final as (
    select
        episode_id,
        position,
        procedure_code,
        outcome,
        case
            when documented_approach = 'open' then null
            when documented_approach is not null then expected_code
            else array_to_string(standard_codes, ' ')
        end as expected_codes,
        nullif(array_to_string(approach_found, ' '), '') as found_codes,
        documented_text || '; ' || case outcome
            when 'approach_code_not_in_force' then
                opcs_dotted_list(not_in_force_found) || ' is not in the OPCS-4 version in force on its date ('
                || coalesce(opcs_version_assumed, 'unknown') || case when documented_approach = 'open'
                    then '), and an open procedure carries no approach code'
                    else '): before 1 April 2023 a conversion to open is Y71.4' end
            when 'conflicting_approach_codes' then
                found_text || ' contradict each other: '
                || case when len(failed_found) > 0 and len(minimal_access_found) > 0
                    then 'a procedure converted to open carries its failed-approach code and no Y75 code'
                    when len(list_distinct(failed_found)) > 1 then 'a conversion carries one failed-approach code'
                    else 'code the one access used' end
            when 'wrong_approach_code' then
                case when documented_approach = 'open' then 'found ' || found_text || ': an open procedure carries no approach code'
                    else 'expected ' || opcs_dotted(expected_code) || ' directly after it, found ' || found_text end
            when 'misplaced_approach_code' then
                'no approach code after it; ' || opcs_dotted(misplaced[2]) || ' at position ' || misplaced[1]
                || case when misplaced[3] is null
                    then ' comes before any procedure: code it directly after this one'
                    else ' follows ' || opcs_dotted(misplaced[3])
                        || ': each procedure needs its own approach code directly after it, so add one after this one too'
                end
            when 'missing_approach_code' then
                'expected ' || opcs_dotted(expected_code) || ' directly after it, found no approach code after it'
            when 'non_standard_approach_code' then
                'found ' || found_text || ', not one of ' || opcs_dotted_list(standard_codes) || ': check the operation note'
            when 'compliant' then found_text || ' follows it'
            else 'no minimal access documented or coded'
        end as message,
        case outcome
            when 'approach_code_not_in_force' then 'PGCS4'
            when 'conflicting_approach_codes' then
                case when len(failed_found) > 0 then 'PGCS4' else 'PCSY6' end
            when 'misplaced_approach_code' then 'PCSY6'
            else case
                when documented_approach = 'robotic' then 'PCSY17'
                when documented_approach like '%converted%' then 'PGCS4'
                -- documented open, coded as a conversion: PGCS4 says what Y71.4/Y72.1 mean
                when documented_approach = 'open' and len(failed_found) > 0 then 'PGCS4'
                when documented_approach is not null then 'IPG135'
                when list_contains(minimal_access_found, 'Y753') then 'PCSY17'
                when len(failed_found) > 0 then 'PGCS4'
                else 'IPG135'
            end
        end as standard,
    from assessed
)

select * from final
