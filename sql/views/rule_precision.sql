-- How often each rule is right, from the auditors' verdicts in force (current_verdicts,
-- including findings since re-coded or re-delivered: the history). Of the
-- reviewed findings needing action: how many the auditors confirmed (the rule was right,
-- verdict_kinds.rule_was) and the share (precision), split by fault (coder or
-- documentation); of the reviewed findings of the compliant sample: how many the auditors
-- found correctly compliant, and how many hid an error the rule missed.
with

verdicts_in_force as (
    select current_verdicts.*, rule_outcomes.severity,
    from current_verdicts
    left join rule_outcomes using (rule_id, outcome)
),

judged as (
    select
        verdicts_in_force.rule_id,
        verdict_kinds.given_to,
        verdict_kinds.rule_was,
        verdict_kinds.fault,
    from verdicts_in_force
    inner join verdict_kinds
        on verdict_kinds.verdict = verdicts_in_force.verdict
        and verdict_kinds.given_to
            = if(verdicts_in_force.severity = 'pass', 'compliant', 'needing action')
),

final as (
    select
        rule_id,
        count(*) filter (where given_to = 'needing action') as findings_reviewed,
        count(*) filter (where given_to = 'needing action' and rule_was = 'right')
            as findings_confirmed,
        round(100.0 * findings_confirmed / nullif(findings_reviewed, 0), 1)
            as percent_confirmed,
        count(*) filter (where given_to = 'needing action' and fault = 'coder')
            as coder_errors,
        count(*) filter (where given_to = 'needing action' and fault = 'documentation')
            as documentation_issues,
        count(*) filter (where given_to = 'needing action' and rule_was = 'wrong')
            as findings_not_correct,
        count(*) filter (where given_to = 'compliant') as compliant_reviewed,
        count(*) filter (where given_to = 'compliant' and rule_was = 'right')
            as compliant_confirmed,
        round(100.0 * compliant_confirmed / nullif(compliant_reviewed, 0), 1)
            as percent_compliant_confirmed,
        count(*) filter (where given_to = 'compliant' and rule_was = 'wrong') as errors_missed,
    from rule_catalogue
    left join judged using (rule_id)  -- every rule, with 0 before any verdict
    group by rule_id
)

select * from final
order by rule_id
