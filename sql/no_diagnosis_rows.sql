-- The view raw_diagnosis_rows of a long delivery that has no diagnoses file: no rows, so
-- its episodes load with none (the layout's diagnoses table is optional).
create or replace temp view raw_diagnosis_rows as
select
    null::bigint as source_row,
    null::varchar as epikey,
    null::varchar as position_text,
    1 as first_position,
    null::varchar as code_text,
where false
