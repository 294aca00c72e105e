-- Schema version 4 -> 5 (issue 15: diagnoses, modelled long). Nothing to move: the table
-- diagnoses comes with sql/warehouse.sql and the ICD-10 reference tables with the next
-- connection that writes. An episode loaded before holds no diagnoses; its version hash now
-- covers every diagnosis position, so its next delivery replaces it once, diagnoses and all.
-- The version changes so that a reader of a warehouse an older version last wrote is told
-- to run it first, rather than fail on what it lacks.
select 1;
