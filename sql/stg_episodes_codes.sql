-- A long layout's episodes take their codes from its other files: the primary diagnosis
-- (position 1, written as sql/stg_episodes.sql writes DIAG_4_01's) and a version hash that
-- covers every procedure and diagnosis, so an episode re-delivered with other codes is
-- replaced, as a wide row's hash covers its code columns.
update stg_episodes
set primary_diagnosis_code = codes.primary_diagnosis_code,
    version_hash = hash(stg_episodes.version_hash, codes.procedures, codes.diagnoses)
from (
    select
        episode_id,
        procedures.codes as procedures,
        diagnoses.codes as diagnoses,
        diagnoses.primary_diagnosis_code,
    from (
        select episode_id,
            list((position_text, procedure_code, procedure_date_text)
                order by position_text, procedure_code, procedure_date_text) as codes,
        from stg_procedures
        where episode_id is not null
        group by episode_id
    ) as procedures
    full join (
        select episode_id,
            list((position_text, diagnosis_code_text)
                order by position_text, diagnosis_code_text) as codes,
            any_value(upper(replace(diagnosis_code_text, '.', ''))) filter (
                where position = 1 and position_copies = 1
                    and diagnosis_code_text not in ('-', '&')
            ) as primary_diagnosis_code,
        from stg_diagnoses
        where episode_id is not null
        group by episode_id
    ) as diagnoses using (episode_id)
) as codes
where stg_episodes.episode_id = codes.episode_id
