-- One row per run, newest first: when, how it ended, its counts, the share of assessed
-- procedures that were compliant, and how long it took. The source of `liver-audit history`
-- and of the report's trend, so the two always agree. Counts only.
with

compliant as (
    select run_id, procedures as compliant
    from run_outcomes
    where outcome = 'compliant'
),

final as (
    select
        runs.run_id,
        runs.started_at,
        runs.finished_at,
        runs.status,
        runs.catalogue_version,
        runs.rows_read,
        runs.rows_loaded,
        runs.rows_quarantined,
        runs.procedures_assessed,
        compliant.compliant,
        round(100.0 * compliant.compliant / nullif(runs.procedures_assessed, 0), 1)
            as percent_compliant,
        round(epoch(runs.finished_at - runs.started_at), 1) as seconds,
    from runs
    left join compliant using (run_id)
)

select * from final order by started_at desc, run_id desc
