-- Inserts into procedures one row per procedure code of each replaced episode (the
-- placeholders '-' and '&' of an empty position left out).
insert into procedures
select replaced_rows.episode_id, position, procedure_code, procedure_date, $file_id
from stg_procedures
inner join replaced_rows using (source_row)
where procedure_code not in ('-', '&')
