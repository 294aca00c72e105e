-- One row per (episode, position, code), with the code's dotted form and OPCS-4 title.
select
    procedures.*,
    opcs4_codes.dotted as procedure_code_dotted,
    opcs4_codes.title as procedure_title,
from procedures
left join opcs4_codes on opcs4_codes.code = procedures.procedure_code
