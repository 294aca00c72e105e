-- One row per (rule, provider, outcome): the latest findings counted.
select
    rule_id,
    provider_code,
    outcome,
    count(*) as findings,
from latest_assessments
group by all
order by rule_id, provider_code, outcome
