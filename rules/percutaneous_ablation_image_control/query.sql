-- One finding per percutaneous radiofrequency (J12.4) or microwave (J12.7) ablation of liver
-- of the episodes to assess: is there an image-control code in its run of Chapter Y/Z codes,
-- with only its approach codes before it (PCSY7)? Y53.9 is right when the imaging is not
-- documented (IPG327, PCSY7). Decision table in cases.md.
with

rule_lists as (
    select
        list(code) filter (where list = 'radiofrequency') as radiofrequency,
        list(code) filter (where list = 'microwave') as microwave,
        list(code) filter (where list = 'image_control') as image_control,
        list(code) filter (where list in ('image_control', 'image_control_unspecified')) as any_image_control,
        list(code) filter (where list = 'approach') as approach,
    from rule_codes
    where rule_id = $rule_id
),

judged as (
    select
        ablation.episode_id,
        ablation.position,
        ablation.procedure_code,
        ablation.run_codes,
        list_filter(ablation.run_codes, lambda c: list_contains(rule_lists.any_image_control, c)) as image_found,
        list_has_any(ablation.run_codes, rule_lists.image_control) as has_type,
        -- the run before its first image-control code, less the approach codes (PCSY7)
        list_filter(
            ablation.run_codes[:list_position(
                list_transform(ablation.run_codes, lambda c: list_contains(rule_lists.any_image_control, c)), true
            ) - 1],
            lambda c: not list_contains(rule_lists.approach, left(c, 3))
        ) as between_codes,
        case when list_contains(rule_lists.radiofrequency, ablation.procedure_code)
            then 'IPG2, IPG327' else 'IPG214, IPG553' end as nice,
    from procedures_to_assess as ablation
    cross join rule_lists
    where list_contains(rule_lists.radiofrequency || rule_lists.microwave, ablation.procedure_code)
),

assessed as (
    select
        *,
        case
            when len(image_found) = 0 then 'image_control_missing'
            when len(between_codes) > 0 then 'image_control_not_directly_after'
            when has_type then 'compliant'
            else 'image_control_type_unspecified'
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
            when 'image_control_missing' then 'Y53'
            when 'image_control_not_directly_after' then image_found[1]
        end as expected_codes,
        nullif(array_to_string(run_codes, ' '), '') as found_codes,
        opcs_dotted(procedure_code) || ' at position ' || position || ': ' || case outcome
            when 'image_control_missing' then
                'no image-control code after it: add the Y53 code of the imaging used, Y53.9 if the notes do not say'
            when 'image_control_not_directly_after' then
                opcs_dotted_list(between_codes) || ' between it and ' || opcs_dotted(image_found[1])
                || ': image control goes directly after the procedure and its approach codes'
            when 'image_control_type_unspecified' then
                opcs_dotted(image_found[1]) || ' after it: right if the notes do not say which imaging was used'
            else opcs_dotted_list(image_found) || ' after it'
        end as message,
        case outcome
            when 'image_control_not_directly_after' then 'PCSY7'
            when 'image_control_type_unspecified' then nice || ', PCSY7'
            else nice
        end as standard,
    from assessed
)

select * from final
