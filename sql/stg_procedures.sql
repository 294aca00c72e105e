-- One row per procedure of an episode extract: (source row, position, code), cleaned but not
-- yet validated. OPCS-4 codes are stored without the dot (J023); we also accept dotted,
-- lower-case, padded codes and a local 5th character (macro opcs4_code). HES sentinels stay
-- as '-' (no operation) and '&' (not known) for the loader to drop.
-- Reads the view procedure_positions: a wide extract's filled positions
-- (sql/procedure_positions.sql), or a long layout's procedures file, one row per row, with
-- the episode's id and the position as delivered (sql/procedure_rows.sql).
select
    source_row,
    hes_text(episode_id) as episode_id,
    position_text,
    position,
    -- counted once the rows are stored, for a long layout (sql/stg_position_copies.sql)
    1::bigint as position_copies,
    opcs4_code(hes_text(code_text)) as procedure_code,
    hes_text(procedure_date_text) as procedure_date_text,
    hes_date(hes_text(procedure_date_text)) as procedure_date,
from procedure_positions
