-- Verdicts read into the warehouse (returned worklists) since the latest run before $run_id
-- that wrote audit files ended (its verdicts read in it are in its report): they change the
-- position, so this run writes a report.
select coalesce(sum(verdicts_loaded), 0)::bigint as verdicts,
from returned_worklists
where read_at > coalesce(
    (
        select max(coalesce(finished_at, started_at))
        from runs
        where audit_files is not null and run_id <> $run_id
    ),
    '-infinity'::timestamp
)
