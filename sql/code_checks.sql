-- The run's row of code_checks: whose codes the code checks judged (code_check_scope) and
-- how many, from the tables the rules read (episodes_in_scope, procedures_in_scope,
-- diagnoses_in_scope).
select
    $run_id as run_id,
    (select code_check_scope from assessment_settings) as code_check_scope,
    (select count(*) from episodes_in_scope) as episodes,
    (select count(*) from episodes_in_scope where liver_episode) as liver_episodes,
    (select count(*) from procedures_in_scope) as procedure_codes,
    (select count(*) from diagnoses_in_scope) as diagnosis_codes,
