-- Export: every episode as now held (audit.episodes), with its partition keys.
select
    *,
    financial_year(episode_end_date) as financial_year,
    partition_value(provider_code) as provider,
from audit.episodes
order by episode_id
