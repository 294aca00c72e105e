-- One row per episode whose delivered theatre records differ from those the warehouse
-- holds for it (or which it holds none for): they replace the ones held.
with incoming as (
    select episode_id,
        list((operation_date, approach_text, approach) order by all) as records,
    from stg_theatre_records
    semi join loaded_rows using (source_row)
    group by episode_id
),
held as (
    select episode_id,
        list((operation_date, approach_text, approach) order by all) as records,
    from theatre_records
    where episode_id in (select episode_id from incoming)
    group by episode_id
)
select incoming.episode_id
from incoming
left join held using (episode_id)
where held.records is distinct from incoming.records
