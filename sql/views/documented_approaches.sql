-- One row per episode with theatre records: the approach theatre documents for it.
-- An unknown approach text, or rows that disagree, leave the episode undocumented
-- (documented_approach null) with the status saying why; they are reported, not dropped.
with

theatre_records as (
    select * from theatre_records
),

per_episode as (
    select
        episode_id,
        count(*) as theatre_record_count,
        count(*) filter (where approach is null) as unknown_approach_count,
        count(distinct approach) as approach_count,
        min(approach) as approach,
    from theatre_records
    group by episode_id
),

final as (
    select
        episode_id,
        case
            when unknown_approach_count = 0 and approach_count = 1 then approach
        end as documented_approach,
        case
            when unknown_approach_count > 0 then 'unknown_approach'
            when approach_count > 1 then 'conflicting'
            else 'documented'
        end as documentation_status,
        theatre_record_count,
    from per_episode
)

select * from final
