-- One row per (episode, position, ICD-10 code) of the episodes in scope (episodes_in_scope),
-- with liver_episode (one of the episodes to assess): the macro codes_in_scope
-- (sql/macros.sql), as procedures_in_scope finds procedures.
select * from codes_in_scope('diagnoses')
