"""Running the rule catalogue over a run's episodes: one assessment row per procedure."""

import duckdb

from liver_audit.catalogue import load_catalogue
from liver_audit.warehouse import sql
from schemas import Assessment


def assess(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Assess the episodes this run loaded or documented; returns the procedures assessed."""
    # The run's files: episodes its extracts loaded (procedures carry their file) and
    # episodes its theatre files documented, whenever those were loaded.
    con.execute(
        "create or replace temp table assessment_scope as "
        "select file_id from input_files where run_id = ?",
        [run_id],
    )
    assessed = 0
    for rule in load_catalogue().rules:
        findings = con.sql(sql(f"rules/{rule['id']}")).pl()
        Assessment.validate(findings)  # the findings-out contract; a failure here is a bug
        con.register("findings", findings)
        con.execute("insert into assessments select ?, * from findings", [run_id])
        con.unregister("findings")
        assessed += findings.height
    return assessed
