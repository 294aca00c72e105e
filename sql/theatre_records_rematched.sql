-- Updates the documented approach of every theatre record whose free text the synonym table
-- now reads otherwise (a synonym added, changed or removed since the record was loaded), as
-- staging matches it (sql/stg_theatre_records.sql): the run's synonym table decides, for
-- records of earlier deliveries too. Assessment then judges every episode again, as the
-- synonym table's version is part of what it was assessed with (assessment_settings).
update theatre_records
set approach = matched.approach
from (
    select theatre_records.file_id, theatre_records.source_row, approach_synonyms.approach
    from theatre_records
    left join approach_synonyms
        on approach_key(theatre_records.approach_text) = approach_synonyms.synonym
) as matched
where theatre_records.file_id = matched.file_id
    and theatre_records.source_row = matched.source_row
    and theatre_records.approach is distinct from matched.approach
