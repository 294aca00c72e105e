-- One row per source row of the file that went to quarantine (for any reason).
select distinct source_row from quarantine where file_id = $file_id
