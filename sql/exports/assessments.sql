-- Export: the current assessments (audit.assessments), with their partition keys.
select
    *,
    financial_year(episode_end_date) as financial_year,
    partition_value(provider_code) as provider,
from audit.assessments
order by episode_id, position, rule_id
