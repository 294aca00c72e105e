-- One finding per percutaneous thermal ablation NEC (J12.5) or other specified percutaneous
-- operation (J12.8) of liver with a laser code (Y08) in its run of Chapter Y/Z codes, of the
-- episodes to assess: coded J12.5, Y08.-, Y53.-? That is the team's reading (rule.toml);
-- NICE gives no code for it (IPG788). Decision table in cases.md.
with

rule_lists as (
    select
        list(code) filter (where list = 'team_reading_procedure') as team_reading_procedure,
        list(code) filter (where list = 'team_reading_other_specified') as team_reading_other_specified,
        list(code) filter (where list = 'team_reading_laser') as team_reading_laser,
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
        list_contains(rule_lists.team_reading_other_specified, procedure.procedure_code) as is_other_specified,
        list_filter(procedure.run_codes, lambda c: list_contains(rule_lists.team_reading_laser, left(c, 3)))
            as laser_found,
        list_filter(procedure.run_codes, lambda c: list_contains(rule_lists.image_control, left(c, 3)))
            as image_found,
        rule_lists.team_reading_procedure[1] as team_reading_code,
    from procedures_to_assess as procedure
    cross join rule_lists
    where list_contains(
            rule_lists.team_reading_procedure || rule_lists.team_reading_other_specified, procedure.procedure_code
        )
        and list_has_any(
            list_transform(procedure.run_codes, lambda c: left(c, 3)), rule_lists.team_reading_laser
        )
),

final as (
    select
        episode_id,
        position,
        procedure_code,
        case
            when is_other_specified then 'laser_ablation_other_specified'
            when len(image_found) = 0 then 'image_control_missing'
            else 'compliant'
        end as outcome,
        case
            when is_other_specified then team_reading_code
            when len(image_found) = 0 then 'Y53'
        end as expected_codes,
        array_to_string(run_codes, ' ') as found_codes,
        opcs_dotted(procedure_code) || ' at position ' || position || ' with ' || opcs_dotted_list(laser_found)
        || ' (laser ablation): ' || case
            when is_other_specified then
                'code it ' || opcs_dotted(team_reading_code) || ', thermal ablation NEC (team''s reading; NICE gives no code)'
                || case when len(image_found) = 0 then ', with its image control (Y53.-)' else '' end
            when len(image_found) = 0 then
                'no image-control code: add the Y53 code of the imaging used, Y53.9 if the notes do not say'
            else opcs_dotted_list(image_found) || ' after it'
        end as message,
        case
            when not is_other_specified and len(image_found) = 0 then 'IPG788, PCSY7'
            else 'IPG788'
        end as standard,
    from judged
)

select * from final
