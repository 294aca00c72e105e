-- One row per filled diagnosis position of an episode extract row: (source row, position,
-- code), cleaned but not yet validated. Positions are DIAG_4_nn, or DIAG_nn where a file has
-- none (liver_audit/extracts.py). ICD-10 codes are stored as HES's 4-character fields hold
-- them (HES TOS, DIAG_4_nn): upper case, no dot or spaces, a 3-character code padded with X
-- (C20 -> C20X). From a full code (DIAG_nn, up to 6 characters) what follows the 4th
-- character is kept apart as diagnosis_detail (a 5th character; HES's R69X6, R69X8), and a
-- dagger or asterisk mark of the dual classification (ICD-10 Vol. 2, 3.1.3) as mark.
-- The HES sentinels stay: '-' and '&' for the loader to drop; R69X and its kin load, and the
-- view diagnoses says what they mean. One filtered scan per position, as stg_procedures.
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
),

known as (
    select positions.*, icd10_codes.code is not null as is_code,
    from positions
    left join icd10_codes on icd10_codes.code = positions.code_text
),

cleaned as (
    select
        source_row,
        position::integer as position,
        is_code,
        case when is_code then code_text else hes_text(code_text) end as code_text,
        case when is_code then code_text else
            replace(replace(replace(replace(replace(upper(hes_text(code_text)), '.', ''), ' ', ''),
            chr(9), ''), '†', ''), '*', '') end as code,
    from known
    where is_code or hes_text(code_text) is not null
),

final as (
    select
        source_row,
        position,
        code_text as diagnosis_code_text,
        case when is_code then code when length(code) = 3 then code || 'X' else left(code, 4) end as diagnosis_code,
        case when not is_code then nullif(code[5:], '') end as diagnosis_detail,
        case
            when is_code then null
            when contains(code_text, '†') then 'dagger'
            when contains(code_text, '*') then 'asterisk'
        end as mark,
    from cleaned
)

select * from final
