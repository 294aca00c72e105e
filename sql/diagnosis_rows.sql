-- One row per row of a long layout's diagnoses file (UK Biobank hesin_diag, CPRD
-- hes_diagnosis_epi): (source row, episode id, position, code as delivered), the columns
-- sql/diagnosis_positions.sql gives for a wide extract. Every row is kept, as in
-- sql/procedure_rows.sql.
select
    source_row,
    epikey as episode_id,
    position_text,
    -- a whole number only (1.0 is 1; 1.5, -1 and 99999 are no position: position_invalid)
    try_cast(regexp_extract(hes_text(position_text), '^(\d{1,4})(\.0+)?$', 1) as integer)
        + 1 - first_position as position,
    code_text,
    true as every_row,
from raw_diagnosis_rows
