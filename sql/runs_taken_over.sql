-- The earlier runs run $run takes over, one row each: runs that loaded files, or took over
-- runs that did, and never wrote their audit files (failed, or killed and then marked
-- failed), so that nothing loaded goes unreported (flows/audit.py; warehouse/runs.py,
-- take_over_unreported_runs). Their counts go: $run's summary holds them.
with reported as (
    -- wrote its audit files; or, written by a version before runs.audit_files, its write
    -- stage completed
    select run_id from runs where audit_files is not null
    union
    select run_id from run_stages where stage = 'write' and status = 'completed'
),

unreported as (
    select run_id from runs
    where run_id <> $run and status = 'failed' and run_id not in (select run_id from reported)
),

reported_elsewhere as (
    -- a version before take-overs had a later run assess (and report) a failed run's files
    select input_files.run_id
    from input_files
    inner join assessed_files using (file_id)
    where assessed_files.run_id in (select run_id from reported)
)

update runs set
    taken_over_by = $run,
    rows_read = null,
    rows_loaded = null,
    rows_quarantined = null,
    procedures_assessed = null,
    summary = null
where run_id in (select run_id from unreported)
    and (
        run_id in (select run_id from input_files)
        or run_id in (select taken_over_by from runs)
    )
    and (taken_over_by is null or taken_over_by in (select run_id from unreported))
    and run_id not in (select run_id from reported_elsewhere)
returning run_id
