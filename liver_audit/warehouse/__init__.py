"""The DuckDB warehouse, by job: connection (opening, read-only sessions, the run lock),
schema (the SQL in sql/, the schema version, reference tables), runs (the run records) and
housekeeping (what killed processes leave, kept copies and the raw views that read them).
Everything is importable from here, as before the split."""

from liver_audit.warehouse.connection import (
    connect,
    cursor,
    holder,
    open_read_only,
    quiet,
    reading,
    run_lock,
    set_up_read_only,
    spill_folder,
    warehouse,
)
from liver_audit.warehouse.housekeeping import (
    SPILL_FILE,
    clear_left_by_ended_processes,
    database_file,
    delivered_folder,
    process_alive,
    repoint_raw_views,
)
from liver_audit.warehouse.runs import (
    finish_run,
    record_audit_files,
    record_stages,
    record_summary,
    recover_interrupted_runs,
    start_run,
    take_over_unreported_runs,
    utc_now,
)
from liver_audit.warehouse.schema import (
    REFERENCE_DIR,
    SCHEMA_VERSION,
    SQL_DIR,
    catalogue_version,
    check_schema_version,
    check_synonyms,
    load_reference_tables,
    migrate,
    sql,
    sql_literal,
)

__all__ = [
    "REFERENCE_DIR", "SCHEMA_VERSION", "SPILL_FILE", "SQL_DIR", "catalogue_version", "check_schema_version",
    "check_synonyms", "clear_left_by_ended_processes", "connect", "cursor", "database_file",
    "delivered_folder", "finish_run", "holder", "load_reference_tables", "migrate", "open_read_only",
    "process_alive", "quiet", "reading", "record_audit_files", "record_stages",
    "record_summary", "recover_interrupted_runs", "repoint_raw_views", "run_lock",
    "set_up_read_only", "spill_folder", "sql", "sql_literal", "start_run",
    "take_over_unreported_runs", "utc_now", "warehouse",
]  # fmt: skip
