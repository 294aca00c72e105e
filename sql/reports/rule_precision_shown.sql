-- rule_precision as `liver-audit history` shows it: per rule, of the findings needing action
-- reviewed, the share confirmed and by whose fault; of the compliant sample reviewed, the
-- share confirmed and the errors the rule missed.
select
    rule_id as rule,
    findings_reviewed as reviewed,
    coalesce(percent_confirmed::varchar || '%', '-') as confirmed,
    coder_errors as "coder error",
    documentation_issues as "documentation",
    findings_not_correct as "not correct",
    compliant_reviewed as "compliant reviewed",
    coalesce(percent_compliant_confirmed::varchar || '%', '-') as "compliant confirmed",
    errors_missed as "errors missed",
from rule_precision
order by rule_id
