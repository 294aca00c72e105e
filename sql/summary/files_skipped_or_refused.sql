-- Files the run reports as skipped or refused, from the ledger. A file skipped because a run
-- this one reports loaded it is no skip in these files.
select action, file_name, reason
from ledger
where run_id in (select run_id from reported_runs($run_id))
    and (
        action = 'refused'
        or action = 'skipped' and sha256 not in (
            select sha256 from input_files
            where run_id in (select run_id from reported_runs($run_id))
        )
    )
order by seen_at, file_name
