-- One finding per other specified percutaneous operation on liver (J12.8) of the episodes to
-- assess: with Y12.3 in its run of Chapter Y/Z codes it is an irreversible electroporation,
-- which NICE codes with Y53.- too (IPG444, IPG445); without Y12.3 it is another procedure.
-- Decision table in cases.md.
with

rule_lists as (
    select
        list(code) filter (where list = 'assessed') as assessed,
        list(code) filter (where list = 'electroporation') as electroporation,
        list(code) filter (where list = 'image_control') as image_control,
    from rule_codes
    where rule_id = $rule_id
),

judged as (
    select
        procedure.episode_id,
        procedure.position,
        procedure.procedure_code,
        procedure.run_codes,
        list_has_any(procedure.run_codes, rule_lists.electroporation) as is_electroporation,
        list_filter(procedure.run_codes, lambda c: list_contains(rule_lists.image_control, left(c, 3)))
            as image_found,
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
            when not is_electroporation then 'not_electroporation'
            when len(image_found) = 0 then 'image_control_missing'
            else 'compliant'
        end as outcome,
        case when is_electroporation and len(image_found) = 0 then 'Y53' end as expected_codes,
        nullif(array_to_string(run_codes, ' '), '') as found_codes,
        opcs_dotted(procedure_code) || ' at position ' || position || ': ' || case
            when not is_electroporation then 'no Y12.3 after it: not an irreversible electroporation'
            when len(image_found) = 0 then
                'Y12.3 after it (irreversible electroporation) but no image-control code: add the Y53 code of the imaging used, Y53.9 if the notes do not say'
            else 'Y12.3 and ' || opcs_dotted_list(image_found) || ' after it'
        end as message,
        null as standard,
    from judged
)

select * from final
