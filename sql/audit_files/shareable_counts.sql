-- The report's position (position, a temp table: sql/reports/position.sql: the latest
-- assessment of every episode held, narrowed as the settings say), counted per rule and provider, and for all providers, by financial year and
-- by quarter of the financial year (Q1 April-June), of the episode's end. The three counts
-- after assessed add up to it: compliant (an outcome of severity pass), needing action, and
-- other (neither: an outcome to note, such as open_procedure). Exact counts: disclosure
-- control is applied after (liver_audit/disclosure.py). A finding with no episode end falls
-- in the period 'unknown' (the position's financial_year and quarter name the periods).
with

findings as (
    select
        rule_id,
        coalesce(provider_code, 'unknown') as provider_code,
        episode_end_date,
        financial_year,
        quarter,
        severity = 'pass' as compliant,
        needs_action and severity <> 'pass' as needing_action,
    from position
),

periods as (
    select
        * exclude (financial_year, quarter),
        'financial year' as period_type,
        financial_year as period,
        make_date(year(episode_end_date) - (month(episode_end_date) < 4)::integer, 4, 1)
            as period_from,
    from findings
    union all by name
    select
        * exclude (financial_year, quarter),
        'quarter' as period_type,
        quarter as period,
        make_date(
            year(episode_end_date), ((month(episode_end_date) - 1) // 3) * 3 + 1, 1
        ) as period_from,
    from findings
),

final as (
    select
        rule_id,
        period_type,
        coalesce(period, 'unknown') as period,
        period_from,
        (case when period_type = 'financial year' then period_from + interval 1 year
            else period_from + interval 3 month end - interval 1 day)::date as period_to,
        coalesce(provider_code, 'all providers') as provider_code,
        count(*) as assessed,
        count(*) filter (where compliant) as compliant,
        count(*) filter (where needing_action) as needing_action,
        count(*) filter (where not compliant and not needing_action) as other,
    from periods
    group by grouping sets (
        (rule_id, period_type, period, period_from, provider_code),
        (rule_id, period_type, period, period_from)
    )
)

select * from final
order by rule_id, period_type, period, provider_code = 'all providers' desc, provider_code
