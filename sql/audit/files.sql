-- Stable view: the ledger, one row per file a run saw: loaded, skipped (content loaded
-- before) or refused, with its counts when loaded.
select
    ledger.run_id,
    ledger.seen_at,
    ledger.file_name,
    ledger.file_kind,
    ledger.sha256,
    ledger.action,
    ledger.reason,
    input_files.file_format,
    input_files.rows_read,
    input_files.rows_loaded,
    input_files.rows_quarantined,
    input_files.rows_unchanged,
from main.ledger
left join main.input_files on input_files.file_id = ledger.file_id and ledger.action = 'loaded'
order by ledger.seen_at desc, ledger.file_name
