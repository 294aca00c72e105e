-- One row per data row of an episode extract, cleaned but not yet validated.
-- Reads raw_episodes: the file's columns under fixed names, all text (built by
-- liver_audit/extracts.py). Numbers may arrive as float text ("2.0").
with

raw_episodes as (
    select * from raw_episodes
),

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
        upper(replace(hes_text(diag_4_01), '.', '')) as primary_diagnosis_code,
    from raw_episodes
),

final as (
    select
        source_row,
        episode_id,
        -- every copy of a repeated id is quarantined, so each copy carries the count
        case when episode_id is null then 1 else count(*) over (partition by episode_id) end
            as episode_id_copies,
        provider_code,
        admission_date_text,
        hes_date(admission_date_text) as admission_date,
        episode_start_text,
        hes_date(episode_start_text) as episode_start_date,
        episode_end_text,
        hes_date(episode_end_text) as episode_end_date,
        sex,
        start_age_text,
        case when try_cast(start_age_text as double) = floor(try_cast(start_age_text as double))
            then try_cast(try_cast(start_age_text as double) as integer) end as start_age,
        case when primary_diagnosis_code not in ('-', '&') then primary_diagnosis_code end
            as primary_diagnosis_code,
    from cleaned
)

select * from final
