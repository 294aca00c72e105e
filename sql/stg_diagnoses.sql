-- One row per filled diagnosis position of an episode extract row: (source row, position,
-- code), cleaned but not yet validated. Positions are DIAG_4_nn, or DIAG_nn where a file has
-- none (liver_audit/extracts.py). ICD-10 codes are stored as HES's 4-character fields hold
-- them (HES TOS, DIAG_4_nn): upper case, no dot or spaces, a 3-character code padded with X
-- (C20 -> C20X). From a full code (DIAG_nn, up to 6 characters) what follows the 4th
-- character is kept apart as diagnosis_detail (a 5th character; HES's R69X6, R69X8), and a
-- dagger or asterisk mark of the dual classification (ICD-10 Vol. 2, 3.1.3) as mark.
-- The HES sentinels stay: '-' and '&' for the loader to drop; R69X and its kin load, and the
-- view diagnoses says what they mean. Reads the view diagnosis_positions: a wide extract's
-- filled positions (sql/diagnosis_positions.sql) or a long layout's diagnoses file, every
-- row (sql/diagnosis_rows.sql).
with

known as (
    select diagnosis_positions.*, icd10_codes.code is not null as is_code,
    from diagnosis_positions
    left join icd10_codes on icd10_codes.code = diagnosis_positions.code_text
),

cleaned as (
    select
        source_row,
        hes_text(episode_id) as episode_id,
        position_text,
        position,
        is_code,
        case when is_code then code_text else hes_text(code_text) end as code_text,
        case when is_code then code_text else
            replace(replace(replace(replace(replace(upper(hes_text(code_text)), '.', ''), ' ', ''),
            chr(9), ''), '†', ''), '*', '') end as code,
    from known
    -- a long layout's rows all stay (every_row): one without a code is quarantined
    where is_code or every_row or hes_text(code_text) is not null
),

final as (
    select
        source_row,
        episode_id,
        position_text,
        position,
        -- counted once the rows are stored, for a long layout (sql/stg_position_copies.sql)
        1::bigint as position_copies,
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
