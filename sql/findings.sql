-- The findings of one rule ($rule_id) in the shape every rule's findings share: what its
-- query judged that is recorded (recorded_judgements, sql/recorded_judgements.sql) with the
-- standard cited (the query's, else the rule's), the OPCS version in force, provider and
-- dates; only under the OPCS-4 versions the rule applies to. `procedure_code` is the
-- assessed code: a diagnosis for a rule that assesses diagnoses (rule_catalogue.assesses).
-- The judgements' columns are cast to the shape's types here, so a rule may write
-- `null as expected_codes`.
with

-- (the recorded judgements' own episodes and procedures, from those of the episodes to
-- assess; from the code checks' whole scope only for the others: a probe of a national
-- year's with code_check_scope all_episodes, not a hash table of them for every rule)
recorded_elsewhere as (
    select episode_id from recorded_judgements
    anti join episodes_to_assess using (episode_id)
),

recorded_episodes as (
    select episode_id, provider_code, admission_date, episode_start_date, episode_end_date,
    from episodes_to_assess
    where episode_id in (select episode_id from recorded_judgements)

    union all

    select episode_id, provider_code, admission_date, episode_start_date, episode_end_date,
    from episodes_in_scope
    where episode_id in (select episode_id from recorded_elsewhere)
),

recorded_procedures as (
    select episode_id, position, opcs_version, opcs_version_assumed, procedure_date,
    from procedures_to_assess
    where episode_id in (select episode_id from recorded_judgements)

    union all

    select episode_id, position, opcs_version, opcs_version_assumed, procedure_date,
    from procedures_in_scope
    where episode_id in (select episode_id from recorded_elsewhere)
),

final as (
    select
        $rule_id as rule_id,
        rule_catalogue.catalogue_version,
        judged.episode_id::varchar as episode_id,
        judged.position::integer as position,
        judged.procedure_code::varchar as procedure_code,
        judged.outcome::varchar as outcome,
        judged.severity,
        judged.needs_action,
        judged.expected_codes::varchar as expected_codes,
        judged.found_codes::varchar as found_codes,
        coalesce(judged.standard::varchar, rule_catalogue.standards) as standard,
        recorded_procedures.opcs_version,
        judged.message::varchar as message,
        recorded_episodes.provider_code,
        recorded_episodes.admission_date,
        recorded_episodes.episode_start_date,
        recorded_episodes.episode_end_date,
        recorded_procedures.procedure_date,
    from recorded_judgements as judged
    inner join rule_catalogue on rule_catalogue.rule_id = $rule_id
    inner join recorded_episodes on recorded_episodes.episode_id = judged.episode_id
    -- (a rule that assesses diagnoses judges DIAG_4_nn positions: no procedure there)
    left join recorded_procedures
        on recorded_procedures.episode_id = judged.episode_id
        and recorded_procedures.position = judged.position
        and rule_catalogue.assesses = 'procedures'
    -- A rule applies under the OPCS-4 versions its rule.toml names (opcs_versions): what it
    -- judged of a procedure dated under another version is no finding.
    where recorded_procedures.opcs_version_assumed is null
        or recorded_procedures.opcs_version_assumed in (
            select opcs_version from rule_opcs_versions where rule_id = $rule_id
        )
)

select * from final
order by episode_id, position
