-- One row per filled diagnosis position of an episode extract (wide): (source row,
-- position, code as delivered). Positions are DIAG_4_nn, or DIAG_nn where a file has none
-- (liver_audit/extracts.py). Read by sql/stg_diagnoses.sql as the view diagnosis_positions;
-- a long layout's diagnoses file gives the same columns (sql/diagnosis_rows.sql). One
-- filtered scan per position, as sql/procedure_positions.sql.
with

positions as (
    select source_row, 1 as position, diag_01 as code_text
    from raw_episodes where diag_01 is not null

    union all

    select source_row, 2 as position, diag_02 as code_text
    from raw_episodes where diag_02 is not null

    union all

    select source_row, 3 as position, diag_03 as code_text
    from raw_episodes where diag_03 is not null

    union all

    select source_row, 4 as position, diag_04 as code_text
    from raw_episodes where diag_04 is not null

    union all

    select source_row, 5 as position, diag_05 as code_text
    from raw_episodes where diag_05 is not null

    union all

    select source_row, 6 as position, diag_06 as code_text
    from raw_episodes where diag_06 is not null

    union all

    select source_row, 7 as position, diag_07 as code_text
    from raw_episodes where diag_07 is not null

    union all

    select source_row, 8 as position, diag_08 as code_text
    from raw_episodes where diag_08 is not null

    union all

    select source_row, 9 as position, diag_09 as code_text
    from raw_episodes where diag_09 is not null

    union all

    select source_row, 10 as position, diag_10 as code_text
    from raw_episodes where diag_10 is not null

    union all

    select source_row, 11 as position, diag_11 as code_text
    from raw_episodes where diag_11 is not null

    union all

    select source_row, 12 as position, diag_12 as code_text
    from raw_episodes where diag_12 is not null

    union all

    select source_row, 13 as position, diag_13 as code_text
    from raw_episodes where diag_13 is not null

    union all

    select source_row, 14 as position, diag_14 as code_text
    from raw_episodes where diag_14 is not null

    union all

    select source_row, 15 as position, diag_15 as code_text
    from raw_episodes where diag_15 is not null

    union all

    select source_row, 16 as position, diag_16 as code_text
    from raw_episodes where diag_16 is not null

    union all

    select source_row, 17 as position, diag_17 as code_text
    from raw_episodes where diag_17 is not null

    union all

    select source_row, 18 as position, diag_18 as code_text
    from raw_episodes where diag_18 is not null

    union all

    select source_row, 19 as position, diag_19 as code_text
    from raw_episodes where diag_19 is not null

    union all

    select source_row, 20 as position, diag_20 as code_text
    from raw_episodes where diag_20 is not null

    union all

    -- Positions past 20, as one list per row; null in a file without them.
    select source_row, extra.position, extra.code_text
    from (
        select source_row, unnest(extra_diagnoses) as extra
        from raw_episodes where extra_diagnoses is not null
    )
)

select
    source_row,
    null::varchar as episode_id,
    null::varchar as position_text,
    position::integer as position,
    code_text,
    false as every_row,
from positions
