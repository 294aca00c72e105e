-- Schema version 2 -> 3 (issue 13: rules as folders, findings in one shape). Run once, in
-- one transaction, by warehouse.migrate. History is kept: each old assessment becomes a
-- finding of the rule that made it (liver_resection_has_expected_approach_code), its
-- approach columns folded into the message; the next run re-assesses every episode held
-- with the current catalogue (its version differs), so current findings use the new rules.
-- Columns added while the schema was version 2 (a warehouse of an early version 2 lacks them).
alter table runs add column if not exists audit_files varchar;
alter table runs add column if not exists taken_over_by varchar;
alter table run_stages add column if not exists worker varchar;

create table assessments_3 as
select
    assessments.run_id,
    assessments.rule_id,
    runs.catalogue_version,
    assessments.episode_id,
    assessments.position,
    assessments.procedure_code,
    assessments.outcome,
    assessments.severity,
    assessments.outcome in (
        'wrong_approach_code', 'misplaced_approach_code', 'missing_approach_code',
        'non_standard_approach_code'
    ) as needs_action,
    assessments.expected_approach_code as expected_codes,
    assessments.approach_code as found_codes,
    'IPG135' as standard,
    null::varchar as opcs_version,  -- not recorded before schema version 3
    'assessed before schema version 3: documented approach '
        || coalesce(assessments.documented_approach, 'none') || ' ('
        || coalesce(assessments.documentation_status, 'none') || '); codes after it: '
        || coalesce(assessments.qualifier_codes, 'none') as message,
    assessments.provider_code,
    assessments.admission_date,
    assessments.episode_start_date,
    assessments.episode_end_date,
    assessments.procedure_date,
from assessments
left join runs using (run_id);

drop view if exists latest_assessments;
drop view if exists outcomes_by_provider;
drop view if exists audit.assessments;
drop table assessments;
alter table assessments_3 rename to assessments;

alter table run_outcomes add column rule_id varchar;
update run_outcomes set rule_id = 'liver_resection_has_expected_approach_code';
alter table run_outcomes rename column procedures to findings;
alter table run_outcomes add column severity varchar;
alter table run_outcomes add column needs_action boolean;
update run_outcomes set
    severity = case outcome
        when 'compliant' then 'pass' when 'open_procedure' then 'info'
        when 'non_standard_approach_code' then 'warning' else 'error' end,
    needs_action = outcome not in ('compliant', 'open_procedure');
