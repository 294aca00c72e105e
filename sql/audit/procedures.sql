-- Stable view: one row per coded procedure (episode, position, code), with its dotted code
-- and OPCS-4 title; position 1 is the main procedure.
select
    procedures.episode_id,
    procedures.position,
    procedures.procedure_code,
    opcs4_codes.dotted as procedure_code_dotted,
    opcs4_codes.title as procedure_title,
    procedures.procedure_date,
from main.procedures
left join main.opcs4_codes on opcs4_codes.code = procedures.procedure_code
