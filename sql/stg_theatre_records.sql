-- One row per data row of a theatre file, cleaned but not yet validated. The theatre
-- system's free-text APPROACH is matched, trimmed and case-folded, against the synonym
-- table (data/reference/approach_synonyms.csv); an unmatched value gives a null approach.
with

raw_theatre_records as (
    select * from raw_theatre_records
),

approach_synonyms as (
    select * from approach_synonyms
),

cleaned as (
    select
        source_row,
        hes_text(epikey) as episode_id,
        hes_text(opdate) as operation_date_text,
        hes_date(hes_text(opdate)) as operation_date,
        hes_text(approach) as approach_text,
    from raw_theatre_records
),

final as (
    select
        cleaned.source_row,
        cleaned.episode_id,
        cleaned.operation_date_text,
        cleaned.operation_date,
        cleaned.approach_text,
        approach_synonyms.approach,
    from cleaned
    left join approach_synonyms
        on approach_key(cleaned.approach_text) = approach_synonyms.synonym
)

select * from final
