-- Of the rows quarantined in the files the run reports, how many were quarantined before, in
-- a file an earlier run loaded: the same episode id with the same reasons, fields and values
-- (a re-delivery that still carries the bad row). The report says so, rather than let them
-- read as new.
with

source_rows as (
    select
        file_id,
        source_row,
        hash(
            any_value(episode_id),
            string_agg(
                concat_ws('|', reason, coalesce(field, '(none)'), coalesce(value, '(none)')),
                '~' order by reason, field, value
            )
        ) as signature,
    from quarantine
    where episode_id is not null  -- a row without one cannot be told from another
    group by file_id, source_row
),

quarantined as (
    select
        source_rows.*,
        input_files.run_id,
        input_files.run_id in (select run_id from reported_runs($run_id)) as in_this_run,
    from source_rows
    inner join input_files using (file_id)
)

select count(*) as rows,
from quarantined as this_run
where this_run.in_this_run
    and exists (
        select 1 from quarantined as earlier
        where not earlier.in_this_run
            and earlier.run_id < $run_id
            and earlier.signature = this_run.signature
    )
