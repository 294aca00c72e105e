-- The theatre records of the files the run reports: loaded, with an approach no synonym
-- names, episodes whose records conflict, and episodes the warehouse does not hold.
with

run_theatre as (
    select theatre_records.*
    from theatre_records
    inner join input_files using (file_id)
    where input_files.run_id in (select run_id from reported_runs($run_id))
),

final as (
    select
        count(*) as records_loaded,
        count(*) filter (where approach is null) as records_with_unknown_approach,
        (
            select count(*) from documented_approaches
            where documentation_status = 'conflicting'
                and episode_id in (select episode_id from run_theatre)
        ) as episodes_with_conflicting_records,
        count(distinct episode_id) filter (
            where episode_id not in (select episode_id from episodes)
        ) as episodes_not_in_warehouse,
    from run_theatre
)

select * from final
