-- The staged diagnoses the contract (schemas/staged_diagnoses.py) checks: those whose text
-- as delivered is not a code of the ICD-10 list held exactly as HES writes it (C787, C20X).
-- Such a text is well formed by construction, and it is nearly every one: a national year
-- has about 80 million diagnoses and 12,000 distinct codes, so validating each row with
-- pandera cost more than staging them (bench/README.md). A long layout's row with a known
-- code is checked too if its position is not one HES could hold, or is repeated.
select stg_diagnoses.*
from stg_diagnoses
anti join icd10_codes on icd10_codes.code = stg_diagnoses.diagnosis_code_text

union all

select stg_diagnoses.*
from stg_diagnoses
semi join icd10_codes on icd10_codes.code = stg_diagnoses.diagnosis_code_text
where stg_diagnoses.position is null
    or stg_diagnoses.position not between 1 and 99
    or stg_diagnoses.position_copies > 1
