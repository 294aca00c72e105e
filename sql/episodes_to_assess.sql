-- One row per episode the rules assess: those with a liver procedure (OPCS-4 J01-J12) that a
-- file to assess loaded, or whose theatre record it delivered.
with

touched as (
    select episode_id from procedures
    where file_id in (select file_id from files_to_assess)
    union
    select episode_id from theatre_records
    where file_id in (select file_id from files_to_assess)
)

select distinct procedures.episode_id
from procedures
semi join touched using (episode_id)
where procedures.procedure_code >= 'J01' and procedures.procedure_code < 'J13'
