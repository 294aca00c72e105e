-- One row per data row of an episode extract, cleaned but not yet validated.
-- Reads raw_episodes: the file's columns under fixed names, all text (built by
-- liver_audit/extracts.py). Numbers may arrive as float text ("2.0").
with

cleaned as (
    select
        source_row,
        hes_text(epikey) as episode_id,
        upper(hes_text(procode3)) as provider_code,
        hes_text(admidate) as admission_date_text,
        hes_text(epistart) as episode_start_text,
        hes_text(epiend) as episode_end_text,
        upper(regexp_replace(hes_text(sex), '\.0+$', '')) as sex,
        hes_text(startage) as start_age_text,
        upper(replace(hes_text(diag_01), '.', '')) as primary_diagnosis_code,
        -- the fields the warehouse keeps, as delivered: a re-delivered episode with the same
        -- hash is unchanged, and keeps its rows and assessments (a format change counts as
        -- a change: conservative)
        -- (positions past 24 too, and past 20 diagnoses; a null list adds nothing to
        -- DuckDB's hash, so a file without them hashes as before they were loaded)
        hash(procode3, admidate, epistart, epiend, sex, startage,
            *columns('opertn_\d{2}|opdate_\d{2}|diag_\d{2}'), extra_positions,
            extra_diagnoses) as version_hash,
    from raw_episodes
),

final as (
    select
        cleaned.source_row,
        cleaned.episode_id,
        -- counted once the rows are stored, by stg_episodes_id_copies.sql
        1::bigint as episode_id_copies,
        cleaned.provider_code,
        cleaned.admission_date_text,
        hes_date(cleaned.admission_date_text) as admission_date,
        cleaned.episode_start_text,
        hes_date(cleaned.episode_start_text) as episode_start_date,
        cleaned.episode_end_text,
        hes_date(cleaned.episode_end_text) as episode_end_date,
        cleaned.sex,
        cleaned.start_age_text,
        case when try_cast(cleaned.start_age_text as double) = floor(try_cast(cleaned.start_age_text as double))
            then try_cast(try_cast(cleaned.start_age_text as double) as integer) end as start_age,
        case when cleaned.primary_diagnosis_code not in ('-', '&') then cleaned.primary_diagnosis_code end
            as primary_diagnosis_code,
        cleaned.version_hash,
    from cleaned
)

select * from final
