-- Rows quarantined in the files the run reports, by reason (a row with several reasons
-- counts under each).
select
    reason,
    count(distinct (quarantine.file_id, source_row)) as source_rows,
from quarantine
inner join input_files using (file_id)
where input_files.run_id in (select run_id from reported_runs($run_id))
group by reason
order by reason
