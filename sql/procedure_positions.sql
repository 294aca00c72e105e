-- One row per filled procedure position of an episode extract (wide: one row per episode):
-- (source row, position, code and date as delivered). Read by sql/stg_procedures.sql as the
-- view procedure_positions; a long layout's procedures file gives the same columns
-- (sql/procedure_rows.sql).
-- One filtered scan per position: DuckDB reads just the two columns each time, several
-- times faster than unpivoting all 24 pairs (1M rows: 0.2 s against 1.3 s). Reads the view
-- raw_episodes directly: an import CTE used 24 times would be materialised.
with

positions as (
    select source_row, 1 as position, opertn_01 as code_text, opdate_01 as procedure_date_text
    from raw_episodes where opertn_01 is not null or opdate_01 is not null

    union all

    select source_row, 2 as position, opertn_02 as code_text, opdate_02 as procedure_date_text
    from raw_episodes where opertn_02 is not null or opdate_02 is not null

    union all

    select source_row, 3 as position, opertn_03 as code_text, opdate_03 as procedure_date_text
    from raw_episodes where opertn_03 is not null or opdate_03 is not null

    union all

    select source_row, 4 as position, opertn_04 as code_text, opdate_04 as procedure_date_text
    from raw_episodes where opertn_04 is not null or opdate_04 is not null

    union all

    select source_row, 5 as position, opertn_05 as code_text, opdate_05 as procedure_date_text
    from raw_episodes where opertn_05 is not null or opdate_05 is not null

    union all

    select source_row, 6 as position, opertn_06 as code_text, opdate_06 as procedure_date_text
    from raw_episodes where opertn_06 is not null or opdate_06 is not null

    union all

    select source_row, 7 as position, opertn_07 as code_text, opdate_07 as procedure_date_text
    from raw_episodes where opertn_07 is not null or opdate_07 is not null

    union all

    select source_row, 8 as position, opertn_08 as code_text, opdate_08 as procedure_date_text
    from raw_episodes where opertn_08 is not null or opdate_08 is not null

    union all

    select source_row, 9 as position, opertn_09 as code_text, opdate_09 as procedure_date_text
    from raw_episodes where opertn_09 is not null or opdate_09 is not null

    union all

    select source_row, 10 as position, opertn_10 as code_text, opdate_10 as procedure_date_text
    from raw_episodes where opertn_10 is not null or opdate_10 is not null

    union all

    select source_row, 11 as position, opertn_11 as code_text, opdate_11 as procedure_date_text
    from raw_episodes where opertn_11 is not null or opdate_11 is not null

    union all

    select source_row, 12 as position, opertn_12 as code_text, opdate_12 as procedure_date_text
    from raw_episodes where opertn_12 is not null or opdate_12 is not null

    union all

    select source_row, 13 as position, opertn_13 as code_text, opdate_13 as procedure_date_text
    from raw_episodes where opertn_13 is not null or opdate_13 is not null

    union all

    select source_row, 14 as position, opertn_14 as code_text, opdate_14 as procedure_date_text
    from raw_episodes where opertn_14 is not null or opdate_14 is not null

    union all

    select source_row, 15 as position, opertn_15 as code_text, opdate_15 as procedure_date_text
    from raw_episodes where opertn_15 is not null or opdate_15 is not null

    union all

    select source_row, 16 as position, opertn_16 as code_text, opdate_16 as procedure_date_text
    from raw_episodes where opertn_16 is not null or opdate_16 is not null

    union all

    select source_row, 17 as position, opertn_17 as code_text, opdate_17 as procedure_date_text
    from raw_episodes where opertn_17 is not null or opdate_17 is not null

    union all

    select source_row, 18 as position, opertn_18 as code_text, opdate_18 as procedure_date_text
    from raw_episodes where opertn_18 is not null or opdate_18 is not null

    union all

    select source_row, 19 as position, opertn_19 as code_text, opdate_19 as procedure_date_text
    from raw_episodes where opertn_19 is not null or opdate_19 is not null

    union all

    select source_row, 20 as position, opertn_20 as code_text, opdate_20 as procedure_date_text
    from raw_episodes where opertn_20 is not null or opdate_20 is not null

    union all

    select source_row, 21 as position, opertn_21 as code_text, opdate_21 as procedure_date_text
    from raw_episodes where opertn_21 is not null or opdate_21 is not null

    union all

    select source_row, 22 as position, opertn_22 as code_text, opdate_22 as procedure_date_text
    from raw_episodes where opertn_22 is not null or opdate_22 is not null

    union all

    select source_row, 23 as position, opertn_23 as code_text, opdate_23 as procedure_date_text
    from raw_episodes where opertn_23 is not null or opdate_23 is not null

    union all

    select source_row, 24 as position, opertn_24 as code_text, opdate_24 as procedure_date_text
    from raw_episodes where opertn_24 is not null or opdate_24 is not null

    union all

    -- Positions past 24 (HES stops there, other extracts do not), as one list per row;
    -- null in a file without them, so DuckDB plans this scan away.
    select source_row, extra.position, extra.code_text, extra.procedure_date_text
    from (
        select source_row, unnest(extra_positions) as extra
        from raw_episodes where extra_positions is not null
    )
)

select
    source_row,
    null::varchar as episode_id,
    null::varchar as position_text,
    position::integer as position,
    code_text,
    procedure_date_text,
from positions
where hes_text(code_text) is not null or hes_text(procedure_date_text) is not null
