-- The rows of a long delivery kept out by another file's, so that an episode loads whole or
-- not at all: one row per (file kind, source row, reason), as a failed check's:
--   procedure_row_quarantined / diagnosis_row_quarantined: an episode row that passed its
--     checks, with a quarantined row in the procedures (diagnoses) file: that file and row;
--   episode_quarantined: a code row that passed, whose episode is quarantined: the
--     episodes file and the episode's row;
--   episode_not_in_delivery: a code row that passed, whose episode id no row of the
--     episodes file has;
--   episode_id_missing: a code row that passed, with no episode id (the checks of a staged
--     procedure or diagnosis cannot tell it from a wide extract's, which has none).
-- Reads the source rows that failed a check: episode_failures, procedure_failures,
-- diagnosis_failures.
with

episodes_kept_out as (
    select episode_id, min(source_row) as source_row
    from stg_episodes
    where episode_id is not null
        and source_row in (select source_row from episode_failures)
    group by episode_id
),

procedures_kept_out as (
    select episode_id, min(source_row) as source_row
    from stg_procedures
    where episode_id is not null
        and source_row in (select source_row from procedure_failures)
    group by episode_id
),

diagnoses_kept_out as (
    select episode_id, min(source_row) as source_row
    from stg_diagnoses
    where episode_id is not null
        and source_row in (select source_row from diagnosis_failures)
    group by episode_id
),

passed_episodes as (
    select episode_id, source_row
    from stg_episodes
    where source_row not in (select source_row from episode_failures)
),

-- each delivered episode id and its first row, passed or not
delivered as (
    select episode_id, min(source_row) as source_row
    from stg_episodes
    where episode_id is not null
    group by episode_id
),

not_loaded as (
    select episode_id from episodes_kept_out
    union
    select episode_id from procedures_kept_out
    union
    select episode_id from diagnoses_kept_out
),

passed_codes as (
    select 'episode_procedures' as kind, source_row, episode_id
    from stg_procedures
    where source_row not in (select source_row from procedure_failures)
    union all
    select 'episode_diagnoses', source_row, episode_id
    from stg_diagnoses
    where source_row not in (select source_row from diagnosis_failures)
)

select
    'episode_extract' as kind,
    passed_episodes.source_row,
    'procedure_row_quarantined' as reason,
    $procedures_file as "column",
    'row ' || procedures_kept_out.source_row as value,
from passed_episodes
inner join procedures_kept_out using (episode_id)

union all

select
    'episode_extract',
    passed_episodes.source_row,
    'diagnosis_row_quarantined',
    $diagnoses_file,
    'row ' || diagnoses_kept_out.source_row,
from passed_episodes
inner join diagnoses_kept_out using (episode_id)

union all

select
    passed_codes.kind,
    passed_codes.source_row,
    case
        when passed_codes.episode_id is null then 'episode_id_missing'
        when delivered.episode_id is null then 'episode_not_in_delivery'
        else 'episode_quarantined'
    end,
    case when delivered.episode_id is null then 'episode_id' else $episodes_file end,
    case when delivered.episode_id is not null then 'row ' || delivered.source_row end,
from passed_codes
left join delivered on delivered.episode_id = passed_codes.episode_id
where delivered.episode_id is null
    or passed_codes.episode_id in (select episode_id from not_loaded)
