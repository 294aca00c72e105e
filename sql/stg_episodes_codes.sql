-- A long layout's episodes take their codes from its other files: the primary diagnosis
-- (position 1, written as sql/stg_episodes.sql writes DIAG_4_01's) and a version hash that
-- covers every procedure and diagnosis, so an episode re-delivered with other codes is
-- replaced, as a wide row's hash covers its code columns. The codes are summed as hashes,
-- which needs no order and little memory (lists of 26M codes ran out of 2 GB at 5M
-- episodes: bench/README.md); stg_episodes is made again, which costs less than updating
-- every row of it.
create or replace temp table stg_episodes as
with

procedures as (
    select episode_id,
        sum(hash(position_text, procedure_code, procedure_date_text)::hugeint) as codes,
    from stg_procedures
    where episode_id is not null
    group by episode_id
),

diagnoses as (
    select episode_id,
        sum(hash(position_text, diagnosis_code_text)::hugeint) as codes,
        any_value(upper(replace(diagnosis_code_text, '.', ''))) filter (
            where position = 1 and position_copies = 1
                and diagnosis_code_text not in ('-', '&')
        ) as primary_diagnosis_code,
    from stg_diagnoses
    where episode_id is not null
    group by episode_id
)

select
    stg_episodes.* replace (
        diagnoses.primary_diagnosis_code as primary_diagnosis_code,
        hash(stg_episodes.version_hash, procedures.codes, diagnoses.codes) as version_hash
    ),
from stg_episodes
left join procedures on procedures.episode_id = stg_episodes.episode_id
left join diagnoses on diagnoses.episode_id = stg_episodes.episode_id
