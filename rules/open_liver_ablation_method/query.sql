-- One finding per destruction of lesion of liver NEC (J03.2) of the episodes to assess: which
-- destruction method its run of Chapter Y/Z codes gives. IPG214: open microwave ablation is
-- J03.2 + Y13.7, laparoscopic is J08.3. Decision table in cases.md.
with

rule_lists as (
    select
        list(code) filter (where list = 'assessed') as assessed,
        list(code) filter (where list = 'microwave') as microwave,
        list(code) filter (where list = 'microwave_organ') as microwave_organ,
        list(code) filter (where list = 'destruction_methods') as destruction_methods,
        list(code) filter (where list = 'minimal_access') as minimal_access,
    from rule_codes
    where rule_id = $rule_id
),

judged as (
    select
        destruction.episode_id,
        destruction.position,
        destruction.procedure_code,
        destruction.run_codes,
        list_filter(destruction.run_codes, lambda c: list_contains(rule_lists.destruction_methods, left(c, 3)))
            as methods_found,
        list_filter(destruction.run_codes, lambda c: list_contains(rule_lists.minimal_access, left(c, 3)))
            as access_found,
        list_has_any(destruction.run_codes, rule_lists.microwave) as has_microwave,
        list_has_any(destruction.run_codes, rule_lists.microwave_organ) as has_microwave_organ,
    from procedures_to_assess as destruction
    cross join rule_lists
    where list_contains(rule_lists.assessed, destruction.procedure_code)
),

assessed as (
    select
        *,
        case
            when (has_microwave or has_microwave_organ) and len(access_found) > 0
                then 'laparoscopic_microwave_ablation'
            when has_microwave then 'compliant'
            when has_microwave_organ then 'microwave_organ_code'
            when len(methods_found) > 0 then 'other_destruction_method'
            else 'destruction_method_missing'
        end as outcome,
    from judged
),

final as (
    select
        episode_id,
        position,
        procedure_code,
        outcome,
        case outcome
            when 'laparoscopic_microwave_ablation' then 'J083'
            when 'microwave_organ_code' then 'Y137'
            when 'destruction_method_missing' then 'Y08 Y11 Y12 Y13'
        end as expected_codes,
        nullif(array_to_string(run_codes, ' '), '') as found_codes,
        opcs_dotted(procedure_code) || ' at position ' || position || ': ' || case outcome
            when 'laparoscopic_microwave_ablation' then
                opcs_dotted_list(methods_found) || ' with ' || opcs_dotted_list(access_found)
                || ': a laparoscopic microwave ablation of liver is J08.3 (with Y75.3 only for a robot), not J03.2'
            when 'microwave_organ_code' then
                'Y11.6 is destruction of an organ: a liver lesion''s microwave ablation is Y13.7'
            when 'other_destruction_method' then
                opcs_dotted_list(methods_found) || ' after it: not a microwave ablation'
            when 'destruction_method_missing' then
                'no destruction method code after it: add the method from the notes (Y13.7 for microwave)'
            else opcs_dotted_list(methods_found) || ' after it'
        end as message,
        null as standard,
    from assessed
)

select * from final
