-- Inserts into diagnoses one row per diagnosis of each replaced episode of a long delivery,
-- from its diagnoses file ($file_id), as sql/load/procedure_rows.sql.
insert into diagnoses
select episode_id, position, diagnosis_code, diagnosis_detail, mark, $file_id
from stg_diagnoses
semi join replaced_rows using (episode_id)
where diagnosis_code not in ('-', '&')
