-- One finding per liver resection or ablation of an episode to assess: does the episode
-- carry a liver indication (episode_indications, from its diagnoses)?
with

rule_lists as (
    select
        list(code) filter (where list = 'resections') as resections,
        list(code) filter (where list = 'ablations') as ablations,
    from rule_codes
    where rule_id = $rule_id
),

assessed as (
    select
        procedures_to_assess.episode_id,
        procedures_to_assess.position,
        procedures_to_assess.procedure_code,
        case when list_contains(rule_lists.resections, procedures_to_assess.procedure_code)
            or list_contains(rule_lists.resections, left(procedures_to_assess.procedure_code, 3))
            then 'resection' else 'ablation' end as kind,
    from procedures_to_assess
    cross join rule_lists
    where list_contains(rule_lists.resections, procedures_to_assess.procedure_code)
        or list_contains(rule_lists.resections, left(procedures_to_assess.procedure_code, 3))
        or list_contains(rule_lists.ablations, procedures_to_assess.procedure_code)
),

final as (
    select
        assessed.episode_id,
        assessed.position,
        assessed.procedure_code,
        case when coalesce(episode_indications.indication, 'none_of_these') = 'none_of_these'
            then 'no_liver_indication_coded' else 'liver_indication_coded' end as outcome,
        null::varchar as expected_codes,
        nullif(array_to_string(episode_indications.diagnosis_codes, ' '), '') as found_codes,
        opcs_dotted(assessed.procedure_code) || ' at position ' || assessed.position
            || ' (' || assessed.kind || '): '
            || case when coalesce(episode_indications.indication, 'none_of_these') = 'none_of_these'
                then 'no diagnosis on the episode names a liver indication; check the diagnoses'
                else 'done for ' || replace(episode_indications.indication, '_', ' ') end
            as message,
        null::varchar as standard,
    from assessed
    left join episode_indications using (episode_id)
)

select * from final
