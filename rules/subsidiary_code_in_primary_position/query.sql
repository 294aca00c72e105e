-- One finding per episode to assess with a liver procedure (J01-J12): is the code in its
-- first coded position a procedure code, not a Chapter Y/Z code? (An empty first position is
-- passed over: HES positions may have gaps, and the first code present is the primary.)
with

rule_lists as (
    select
        list(code) filter (where list = 'liver_categories') as liver_categories,
    from rule_codes
    where rule_id = $rule_id
),

episodes_with_liver_procedure as (
    select
        episode_id,
        arg_min(procedure_code, position) as first_code,
        arg_min(is_subsidiary, position) as first_is_subsidiary,
        min(position) as first_position,
        arg_min(procedure_code, position) filter (
            where list_contains(rule_lists.liver_categories, left(procedure_code, 3))
        ) as liver_code,
    from procedures_to_assess
    cross join rule_lists
    group by episode_id
    having bool_or(list_contains(rule_lists.liver_categories, left(procedure_code, 3)))
),

final as (
    select
        episode_id,
        first_position as position,
        first_code as procedure_code,
        case when first_is_subsidiary
            then 'subsidiary_code_in_primary_position' else 'compliant' end as outcome,
        null::varchar as expected_codes,
        first_code as found_codes,
        case when first_is_subsidiary
            then opcs_dotted(first_code) || ' at position ' || first_position
                || ' is a Chapter ' || left(first_code, 1)
                || ' code, which only qualifies a procedure: put the main procedure (' || opcs_dotted(liver_code)
                || ' or another) first'
            else opcs_dotted(first_code) || ' at position ' || first_position || ' is a procedure code'
        end as message,
        null::varchar as standard,
    from episodes_with_liver_procedure
    cross join rule_lists
)

select * from final
