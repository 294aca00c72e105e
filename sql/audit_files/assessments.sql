-- assessments.csv: the run's findings ($run_id), one row each, by rule, episode and position.
select
    rule_id,
    episode_id,
    position,
    procedure_code,
    outcome,
    severity,
    needs_action,
    expected_codes,
    found_codes,
    message,
    standard,
    opcs_version,
    provider_code,
    admission_date,
    episode_start_date,
    episode_end_date,
    procedure_date,
    catalogue_version,
from assessments
where run_id = $run_id
order by rule_id, episode_id, position
