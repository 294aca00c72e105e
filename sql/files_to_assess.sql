-- One row per loaded file whose episodes this run assesses: every file not yet assessed, or
-- every file when the catalogue (or the setting that dates procedures, or the code checks'
-- scope) changed since the last
-- assessment ($assess_all), so that every episode held is judged by the rules in force.
select file_id from input_files
where $assess_all or file_id not in (select file_id from assessed_files)
