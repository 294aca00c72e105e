-- Stable view: one row per coded diagnosis (episode, position, ICD-10 code); position 1 is
-- the primary diagnosis. The code as HES's 4-character fields hold it (C787, C20X) and as
-- coders write it (C78.7, C20), its ICD-10 5th edition title, any 5th and 6th characters
-- and dagger or asterisk mark as delivered, and what a HES sentinel (R69X, R69X6, R69X8, ...)
-- means: such a row is no diagnosis.
select
    diagnoses.episode_id,
    diagnoses.position,
    diagnoses.diagnosis_code,
    coalesce(
        icd10_codes.dotted,
        case when diagnoses.diagnosis_code[4] = 'X' then left(diagnoses.diagnosis_code, 3)
            else left(diagnoses.diagnosis_code, 3) || '.' || diagnoses.diagnosis_code[4] end
    ) as diagnosis_code_dotted,
    icd10_codes.title as diagnosis_title,
    diagnoses.diagnosis_detail,
    diagnoses.mark,
    hes_diagnosis_sentinels.meaning as hes_sentinel,
from main.diagnoses
left join main.icd10_codes on icd10_codes.code = diagnoses.diagnosis_code
left join main.hes_diagnosis_sentinels
    on hes_diagnosis_sentinels.diagnosis_code = diagnoses.diagnosis_code
    and hes_diagnosis_sentinels.diagnosis_detail is not distinct from diagnoses.diagnosis_detail
