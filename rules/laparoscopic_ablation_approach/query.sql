-- One finding per laparoscopic microwave ablation of liver (J08.3) of the episodes to assess:
-- does its run of Chapter Y/Z codes repeat the laparoscope its title names (Y75.2, Y75.9)?
-- PCSY6: no approach code unless it adds detail (Y75.3 robotic: PCSY17). Cases in cases.md.
with

rule_lists as (
    select
        list(code) filter (where list = 'assessed') as assessed,
        list(code) filter (where list = 'redundant_approach') as redundant_approach,
        list(code) filter (where list = 'detail_approach') as detail_approach,
        list(code) filter (where list = 'robotic') as robotic,
    from rule_codes
    where rule_id = $rule_id
),

judged as (
    select
        ablation.episode_id,
        ablation.position,
        ablation.procedure_code,
        ablation.run_codes,
        list_filter(ablation.run_codes, lambda c: list_contains(rule_lists.redundant_approach, c))
            as redundant_found,
        list_filter(ablation.run_codes, lambda c: list_contains(rule_lists.detail_approach, c))
            as detail_found,
        list_has_any(ablation.run_codes, rule_lists.robotic) as has_robot,
    from procedures_to_assess as ablation
    cross join rule_lists
    where list_contains(rule_lists.assessed, ablation.procedure_code)
),

final as (
    select
        episode_id,
        position,
        procedure_code,
        case when len(redundant_found) > 0 then 'redundant_approach_code' else 'compliant' end
            as outcome,
        null as expected_codes,
        nullif(array_to_string(run_codes, ' '), '') as found_codes,
        opcs_dotted(procedure_code) || ' at position ' || position || ': ' || case
            when len(redundant_found) > 0 then
                opcs_dotted_list(redundant_found) || ' repeats the laparoscope its code names: remove it'
                || case when has_robot then ' (keep Y75.3 for the robot)' else ' (Y75.3 only for a robot)' end
            when len(detail_found) > 0 then opcs_dotted_list(detail_found) || ' adds detail to the laparoscope its code names'
                || case when has_robot then ' (the robot)' else '' end
            else 'no approach code, as its code names the laparoscope'
        end as message,
        case
            when len(redundant_found) > 0 then 'PCSY6'
            when has_robot then 'PCSY6, PCSY17'
            when len(detail_found) > 0 then 'PCSY6'
            else 'IPG214, IPG553'
        end as standard,
    from judged
)

select * from final
