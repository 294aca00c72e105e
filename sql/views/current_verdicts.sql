-- The verdict in force on each finding key: the latest read (the returned worklist read
-- last; within one file, its first sheet and row). standing_findings and rule_precision read
-- it; every verdict read stays in the table verdicts.
select *
from verdicts
qualify row_number() over (
    partition by finding_key order by read_at desc, worklist_sha256, sheet, sheet_row
) = 1
