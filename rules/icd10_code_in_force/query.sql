-- One finding per diagnosis of an episode in the code checks' scope (diagnoses_in_scope:
-- those with a liver procedure, J01-J12, or every episode), at every position, a pass only
-- for the episodes to assess: is it a code of ICD-10 5th edition (icd10_codes), or a HES sentinel?
-- A sentinel with a 5th character (R69X6, R69X8, R69X3) is one whatever the list says (R69
-- is a code, R69X6 is not); one without (R96X) only when the list lacks the code: R69X alone
-- is R69, or HES's not known, and the two cannot be told apart.
with

judged as (
    select
        diagnoses.episode_id,
        diagnoses.position,
        diagnoses.diagnosis_code,
        diagnoses.diagnosis_detail,
        case
            when sentinels.diagnosis_code is not null and diagnoses.diagnosis_detail is not null
                then 'diagnosis_not_known'
            when icd10_codes.code is not null then 'code_in_force'
            when sentinels.diagnosis_code is not null then 'diagnosis_not_known'
            else 'code_not_in_reference'
        end as outcome,
        sentinels.meaning,
        diagnoses.liver_episode,
    from diagnoses_in_scope as diagnoses
    left join icd10_codes on icd10_codes.code = diagnoses.diagnosis_code
    left join hes_diagnosis_sentinels as sentinels
        on sentinels.diagnosis_code = diagnoses.diagnosis_code
        and sentinels.diagnosis_detail is not distinct from diagnoses.diagnosis_detail
),

-- Outside the episodes to assess only what is not a pass is recorded
-- (sql/recorded_judgements.sql): left out here, before a national year's messages are written.
recorded as (
    select * exclude (liver_episode) from judged
    where liver_episode or outcome <> 'code_in_force'
),

final as (
    select
        episode_id,
        position,
        diagnosis_code as procedure_code,
        outcome,
        null::varchar as expected_codes,
        diagnosis_code || coalesce(diagnosis_detail, '') as found_codes,
        'diagnosis ' || diagnosis_code || coalesce(diagnosis_detail, '') || ' at position '
            || position || case outcome
                when 'code_in_force' then ' is a code of ICD-10 5th edition'
                when 'diagnosis_not_known' then ': HES holds no diagnosis here, '
                    || meaning || '; code the diagnosis'
                else ' is in no ICD-10 list held: check the code'
            end as message,
        case when outcome = 'diagnosis_not_known' then 'HES diagnosis fields'
            else 'ICD-10 5th edition' end as standard,
    from recorded
)

select * from final
