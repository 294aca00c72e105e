-- Per provider, the episodes held with colorectal liver metastasis (episode_indications) and
-- a liver resection, an ablation, or both (the code lists resections and ablations of the
-- rule liver_indication_coded), narrowed as the report is. Guidance prefers resection to
-- ablation for colorectal liver metastases where both are possible (issue 15; NICE IPG135,
-- IPG327).
with

rule_lists as (
    select
        list(code) filter (where list = 'resections') as resections,
        list(code) filter (where list = 'ablations') as ablations,
    from rule_codes
    where rule_id = 'liver_indication_coded'
),

kinds as (
    select
        procedures.episode_id,
        bool_or(list_contains(rule_lists.resections, procedures.procedure_code)
            or list_contains(rule_lists.resections, left(procedures.procedure_code, 3))) as resected,
        bool_or(list_contains(rule_lists.ablations, procedures.procedure_code)) as ablated,
    from procedures
    cross join rule_lists
    where procedures.episode_id in (
        select episode_id from episode_indications
        where indication = 'colorectal_liver_metastasis'
    )
    group by procedures.episode_id
)

select
    coalesce(episodes.provider_code, 'unknown') as provider_code,
    count(*) filter (where kinds.resected and not kinds.ablated) as resection_only,
    count(*) filter (where kinds.ablated and not kinds.resected) as ablation_only,
    count(*) filter (where kinds.resected and kinds.ablated) as both,
    count(*) as episodes,
from kinds
inner join episodes using (episode_id)
where (kinds.resected or kinds.ablated)
    and in_report_scope(
        episodes.provider_code, episodes.episode_end_date, $since, $provider, $financial_year
    )
group by all
order by provider_code
