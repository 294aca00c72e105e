-- One run's timed stages in the order they ran (counts, file names and error types only).
select
    coalesce(file_name, '(run)') as file,
    stage,
    strftime(started_at, '%H:%M:%S') as started_utc,
    round(seconds, 2) as seconds,
    rows,
    status,
    error,
    worker,  -- fan-out: the worker that prepared the file
from run_stages
where run_id = $run_id
order by started_at, stage
