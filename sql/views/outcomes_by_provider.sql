-- One row per (provider, outcome): the latest assessments counted.
select
    provider_code,
    outcome,
    count(*) as procedures,
from latest_assessments
group by all
order by provider_code, outcome
