-- One row per filled procedure position of an episode extract row: (source row, position,
-- code), cleaned but not yet validated. OPCS-4 codes are stored without the dot (J023); we
-- also accept dotted, lower-case, padded codes and a local 5th character (macro opcs4_code).
-- HES sentinels stay as '-' (no operation) and '&' (not known) for the loader to drop.
with

raw_episodes as (
    select * from raw_episodes
),

-- include nulls: DuckDB drops a pair where either value is null, and a code may have no
-- OPDATE (column or value); empty pairs are filtered in final.
positions as (
    select *
    from raw_episodes
    unpivot include nulls (
        (code_text, procedure_date_text) for position in (
            (opertn_01, opdate_01) as '1', (opertn_02, opdate_02) as '2', (opertn_03, opdate_03) as '3',
            (opertn_04, opdate_04) as '4', (opertn_05, opdate_05) as '5', (opertn_06, opdate_06) as '6',
            (opertn_07, opdate_07) as '7', (opertn_08, opdate_08) as '8', (opertn_09, opdate_09) as '9',
            (opertn_10, opdate_10) as '10', (opertn_11, opdate_11) as '11', (opertn_12, opdate_12) as '12',
            (opertn_13, opdate_13) as '13', (opertn_14, opdate_14) as '14', (opertn_15, opdate_15) as '15',
            (opertn_16, opdate_16) as '16', (opertn_17, opdate_17) as '17', (opertn_18, opdate_18) as '18',
            (opertn_19, opdate_19) as '19', (opertn_20, opdate_20) as '20', (opertn_21, opdate_21) as '21',
            (opertn_22, opdate_22) as '22', (opertn_23, opdate_23) as '23', (opertn_24, opdate_24) as '24'
        )
    )
),

final as (
    select
        source_row,
        position::integer as position,
        opcs4_code(hes_text(code_text)) as procedure_code,
        hes_text(procedure_date_text) as procedure_date_text,
        hes_date(hes_text(procedure_date_text)) as procedure_date,
    from positions
    where hes_text(code_text) is not null or hes_text(procedure_date_text) is not null
)

select * from final
