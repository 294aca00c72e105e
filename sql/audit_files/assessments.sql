-- assessments.csv: the run's findings ($run_id), one row each, by rule, episode and position,
-- with each finding's key (the episode's version as it stands: the run has just judged it).
select
    assessments.rule_id,
    assessments.episode_id,
    assessments.position,
    procedure_code,
    outcome,
    severity,
    needs_action,
    expected_codes,
    found_codes,
    message,
    standard,
    opcs_version,
    assessments.provider_code,
    assessments.admission_date,
    assessments.episode_start_date,
    assessments.episode_end_date,
    procedure_date,
    catalogue_version,
    finding_key(
        assessments.rule_id, assessments.episode_id, assessments.position, assessments.outcome,
        episodes.version_hash
    ) as finding_key,
from assessments
left join episodes using (episode_id)
where run_id = $run_id
order by assessments.rule_id, assessments.episode_id, assessments.position
