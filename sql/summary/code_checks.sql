-- Whose codes run $run_id's code checks judged, and how many (code_checks; none when the
-- run assessed nothing).
select code_check_scope, episodes, liver_episodes, procedure_codes, diagnosis_codes
from code_checks
where run_id = $run_id
