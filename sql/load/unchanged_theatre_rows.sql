-- One row per loaded source row of a theatre file whose episode's records are the same as
-- those held: they, and the episode's assessments, stay.
select source_row from loaded_rows anti join replaced_episodes using (episode_id)
