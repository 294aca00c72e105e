-- Stable view: one row per assessed J02.3/J02.4 procedure of each episode as the warehouse
-- now holds it (the latest run that assessed its current version), with whether a coder
-- must act on its outcome.
select
    latest_assessments.run_id,
    latest_assessments.rule_id,
    latest_assessments.episode_id,
    latest_assessments.provider_code,
    latest_assessments.admission_date,
    latest_assessments.episode_start_date,
    latest_assessments.episode_end_date,
    latest_assessments.procedure_date,
    latest_assessments.position,
    latest_assessments.procedure_code,
    latest_assessments.qualifier_codes,
    latest_assessments.approach_code,
    latest_assessments.documented_approach,
    latest_assessments.documentation_status,
    latest_assessments.expected_approach_code,
    latest_assessments.outcome,
    latest_assessments.severity,
    rule_outcomes.needs_action,
from main.latest_assessments
left join main.rule_outcomes using (outcome)
