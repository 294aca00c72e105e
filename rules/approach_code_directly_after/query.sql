-- One finding per J02 procedure of the episodes to assess whose run of Chapter Y/Z codes holds
-- an approach or failed-approach code: is that code the first of the run? (PCSY6: directly
-- after; PCSY7: image control after the approach; PGCS14: Y before Z.) Several approach codes
-- need no order among themselves (PCSY6), so any of them first will do.
with

rule_lists as (
    select
        list(code) filter (where list = 'assessed') as assessed,
        list(code) filter (where list = 'approach') as approach,
    from rule_codes
    where rule_id = $rule_id
),

judged as (
    select
        resection.episode_id,
        resection.position,
        resection.procedure_code,
        resection.run_codes,
        list_filter(run_codes, lambda c: list_contains(rule_lists.approach, c)) as approach_found,
        list_position(
            list_transform(run_codes, lambda c: list_contains(rule_lists.approach, c)), true
        ) as first_approach_at,
    from procedures_to_assess as resection
    cross join rule_lists
    where list_contains(rule_lists.assessed, resection.procedure_code)
        and list_has_any(run_codes, rule_lists.approach)
),

final as (
    select
        episode_id,
        position,
        procedure_code,
        case when first_approach_at = 1 then 'compliant' else 'approach_code_not_directly_after' end
            as outcome,
        approach_found[1] as expected_codes,
        array_to_string(run_codes, ' ') as found_codes,
        opcs_dotted(procedure_code) || ' at position ' || position || ': ' || case
            when first_approach_at = 1 then opcs_dotted(approach_found[1]) || ' directly after it'
            else opcs_dotted_list(run_codes[:first_approach_at - 1]) || ' between it and '
                || opcs_dotted(approach_found[1])
                || ': the approach code goes directly after the procedure'
                || case when list_has_any(list_transform(run_codes[:first_approach_at - 1], lambda c: left(c, 1)), ['Z'])
                    then ', Y codes before Z codes' else '' end
        end as message,
        case
            when first_approach_at = 1 then 'PCSY6'
            when list_has_any(list_transform(run_codes[:first_approach_at - 1], lambda c: left(c, 1)), ['Z'])
                then 'PCSY6, PGCS14'
            when list_has_any(list_transform(run_codes[:first_approach_at - 1], lambda c: left(c, 3)), ['Y53'])
                then 'PCSY6, PCSY7'
            else 'PCSY6'
        end as standard,
    from judged
)

select * from final
