-- The special arrangements register (view special_arrangements) by guidance, provider and
-- month of the procedure (else of the episode's end), narrowed as the report is: how many
-- procedures, on how many episodes.
select
    guidance,
    any_value(procedure) as procedure,
    any_value(arrangement) as arrangement,
    coalesce(provider_code, 'unknown') as provider_code,
    coalesce(month, 'unknown') as month,
    count(*) as procedures,
    count(distinct episode_id) as episodes,
from special_arrangements
where in_report_scope(provider_code, episode_end_date, $since, $provider, $financial_year)
group by guidance, provider_code, month
order by guidance, provider_code, month
