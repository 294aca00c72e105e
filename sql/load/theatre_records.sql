-- Inserts into theatre_records the delivered records of each episode whose records are
-- replaced (quarantined rows left out).
insert into theatre_records
select episode_id, operation_date, approach_text, approach, $file_id, source_row
from stg_theatre_records
semi join replaced_episodes using (episode_id)
anti join quarantined_source_rows using (source_row)
