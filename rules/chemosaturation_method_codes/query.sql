-- One finding per percutaneous transluminal injection into liver (J10.3, NICE's code for
-- chemosaturation) of the episodes to assess: are NICE's codes (Y53.2, Z37.6) among the
-- codes after it up to the next body-system procedure (procedures_to_assess.group_codes:
-- the X70-X72 drug codes would stop its run)? The same query as sirt_method_codes.
with

rule_lists as (
    select
        list(code) filter (where list = 'assessed') as assessed,
        list(code) filter (where list = 'required') as required,
        list(code) filter (where list = 'expected_image_control') as expected_image_control,
        list(code) filter (where list = 'image_control') as image_control,
    from rule_codes
    where rule_id = $rule_id
),

judged as (
    select
        procedure.episode_id,
        procedure.position,
        procedure.procedure_code,
        procedure.group_codes,
        -- in code order, which is NICE's and Y before Z (PGCS14)
        list_sort(rule_lists.required || rule_lists.expected_image_control) as nice_codes,
        rule_lists.expected_image_control,
        list_filter(procedure.group_codes, lambda c: list_contains(rule_lists.image_control, left(c, 3)))
            as image_found,
        -- the codes missing: each required one; the expected image control if there is none
        list_sort(
            list_filter(rule_lists.required, lambda c: not list_contains(procedure.group_codes, c))
            || case when list_has_any(
                list_transform(procedure.group_codes, lambda c: left(c, 3)), rule_lists.image_control
            ) then [] else rule_lists.expected_image_control end
        ) as missing,
    from procedures_to_assess as procedure
    cross join rule_lists
    where list_contains(rule_lists.assessed, procedure.procedure_code)
),

final as (
    select
        episode_id,
        position,
        procedure_code,
        case
            when len(missing) > 0 then 'method_codes_missing'
            when not list_has_any(group_codes, expected_image_control) then 'other_image_control'
            else 'compliant'
        end as outcome,
        case
            when len(missing) > 0 then array_to_string(missing, ' ')
            when not list_has_any(group_codes, expected_image_control) then array_to_string(expected_image_control, ' ')
        end as expected_codes,
        nullif(array_to_string(group_codes, ' '), '') as found_codes,
        opcs_dotted(procedure_code) || ' at position ' || position || ': ' || case
            when len(missing) > 0 then
                'no ' || opcs_dotted_list(missing) || ' after it, before the next procedure: NICE codes it with '
                || opcs_dotted_list(nice_codes) || '; add what the notes support'
            when not list_has_any(group_codes, expected_image_control) then
                'image control ' || opcs_dotted_list(image_found) || ' where NICE gives '
                || opcs_dotted_list(expected_image_control) || ': check the notes and code the imaging used'
            else opcs_dotted_list(nice_codes) || ' after it'
        end as message,
        null as standard,
    from judged
)

select * from final
