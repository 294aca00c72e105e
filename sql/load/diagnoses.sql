-- Inserts into diagnoses one row per diagnosis code of each replaced episode (the
-- placeholders '-' and '&' of an empty position left out).
insert into diagnoses
select replaced_rows.episode_id, position, diagnosis_code, diagnosis_detail, mark, $file_id
from stg_diagnoses
inner join replaced_rows using (source_row)
where diagnosis_code not in ('-', '&')
