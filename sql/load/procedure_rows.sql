-- Inserts into procedures one row per procedure of each replaced episode of a long delivery,
-- from its procedures file ($file_id). Every row of a loaded episode passed its checks
-- (sql/load/kept_out_with_episodes.sql); the placeholders '-' and '&' are left out, as
-- from a wide extract.
insert into procedures
select episode_id, position, procedure_code, procedure_date, $file_id
from stg_procedures
semi join replaced_rows using (episode_id)
where procedure_code not in ('-', '&')
