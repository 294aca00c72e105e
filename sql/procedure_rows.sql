-- One row per row of a long layout's procedures file (UK Biobank hesin_oper, CPRD
-- hes_procedures_epi): (source row, episode id, position, code and date as delivered), the
-- columns sql/procedure_positions.sql gives for a wide extract. Every row is kept: one
-- without a code is quarantined, not passed over. The position counts from 1, as HES's:
-- a layout counting from 0 (first_position) is moved up.
select
    source_row,
    epikey as episode_id,
    position_text,
    -- a whole number only (1.0 is 1; 1.5, -1 and 99999 are no position: position_invalid)
    try_cast(regexp_extract(hes_text(position_text), '^(\d{1,4})(\.0+)?$', 1) as integer)
        + 1 - first_position as position,
    code_text,
    procedure_date_text,
from raw_procedure_rows
