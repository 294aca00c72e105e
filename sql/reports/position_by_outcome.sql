-- Per rule, outcome and provider (unknown when not coded), of the report's position
-- (position, a temp table: sql/reports/position.sql): the findings, how many were reviewed,
-- and how many are open.
select
    rule_id,
    outcome,
    coalesce(provider_code, 'unknown') as provider_code,
    count(*) as findings,
    count(*) filter (where reviewed) as reviewed,
    count(*) filter (where open) as open,
from position
group by all
order by all
