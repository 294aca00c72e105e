-- Marks failed every run still marked running, returning one row per such run: under the
-- run lock no other run is alive, so each was killed (recover_interrupted_runs).
update runs
set status = 'failed', error = 'interrupted: the process ended before the run finished'
where status = 'running'
returning run_id
