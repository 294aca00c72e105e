-- The findings of one rule ($rule_id) in the shape every rule's findings share: its query's
-- judgement (judged: episode, position, code, outcome, codes expected and found, message,
-- standard) with the rule's severity and needs-action for that outcome, the standard cited
-- (the query's, else the rule's), the OPCS version in force, provider and dates; only
-- under the OPCS-4 versions the rule applies to. Outside the episodes to assess (the code
-- checks' scope all_episodes: episodes_in_scope) a finding is recorded only when it is not
-- a pass: a national year holds about 100 million codes, nearly all in force. `procedure_code` is the assessed code: a
-- diagnosis for a rule that assesses diagnoses (rule_catalogue.assesses).
-- assess.py puts the rule's query (rules/<id>/query.sql) in the judged CTE; its columns are
-- cast to the shape's types here, so a rule may write `null as expected_codes`.
with

judged as (
{rule_query}
),

final as (
    select
        $rule_id as rule_id,
        rule_catalogue.catalogue_version,
        judged.episode_id::varchar as episode_id,
        judged.position::integer as position,
        judged.procedure_code::varchar as procedure_code,
        judged.outcome::varchar as outcome,
        rule_outcomes.severity,
        rule_outcomes.needs_action,
        judged.expected_codes::varchar as expected_codes,
        judged.found_codes::varchar as found_codes,
        coalesce(judged.standard::varchar, rule_catalogue.standards) as standard,
        procedures_in_scope.opcs_version,
        judged.message::varchar as message,
        episodes_in_scope.provider_code,
        episodes_in_scope.admission_date,
        episodes_in_scope.episode_start_date,
        episodes_in_scope.episode_end_date,
        procedures_in_scope.procedure_date,
    from judged
    inner join rule_catalogue on rule_catalogue.rule_id = $rule_id
    inner join episodes_in_scope on episodes_in_scope.episode_id = judged.episode_id
    -- (a rule that assesses diagnoses judges DIAG_4_nn positions: no procedure there)
    left join procedures_in_scope
        on procedures_in_scope.episode_id = judged.episode_id
        and procedures_in_scope.position = judged.position
        and rule_catalogue.assesses = 'procedures'
    left join rule_outcomes
        on rule_outcomes.rule_id = $rule_id and rule_outcomes.outcome = judged.outcome
    -- A rule applies under the OPCS-4 versions its rule.toml names (opcs_versions): what it
    -- judged of a procedure dated under another version is no finding.
    where (
            procedures_in_scope.opcs_version_assumed is null
            or procedures_in_scope.opcs_version_assumed in (
                select opcs_version from rule_opcs_versions where rule_id = $rule_id
            )
        )
        and (episodes_in_scope.liver_episode or rule_outcomes.severity is distinct from 'pass')
)

select * from final
order by episode_id, position
