-- Export: every coded procedure (audit.procedures), partitioned by its episode's year and
-- provider.
select
    procedures.*,
    financial_year(episodes.episode_end_date) as financial_year,
    partition_value(episodes.provider_code) as provider,
from audit.procedures
inner join main.episodes using (episode_id)
order by procedures.episode_id, procedures.position
