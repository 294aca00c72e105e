-- Stable view: one row per finding of each episode as the warehouse now holds it (the latest
-- run that assessed its current version), per rule of the catalogue: the outcome, whether a
-- coder must act, the codes expected and found, the standard, the OPCS-4 version in force and
-- a one-line message.
select
    latest_assessments.run_id,
    latest_assessments.rule_id,
    latest_assessments.catalogue_version,
    latest_assessments.episode_id,
    latest_assessments.provider_code,
    latest_assessments.admission_date,
    latest_assessments.episode_start_date,
    latest_assessments.episode_end_date,
    latest_assessments.procedure_date,
    latest_assessments.position,
    latest_assessments.procedure_code,
    latest_assessments.outcome,
    latest_assessments.severity,
    latest_assessments.needs_action,
    latest_assessments.expected_codes,
    latest_assessments.found_codes,
    latest_assessments.standard,
    latest_assessments.opcs_version,
    latest_assessments.message,
from main.latest_assessments
