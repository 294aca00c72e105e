"""Running the rule catalogue over a run's episodes: one assessment row per procedure."""

import duckdb

from liver_audit.catalogue import load_catalogue
from liver_audit.warehouse import sql
from schemas import Assessment


def assess(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Assess the episodes of every loaded file not yet assessed: this run's, and any an
    interrupted run loaded but never assessed. Returns the procedures assessed."""
    # The files: episodes their extracts loaded (procedures carry their file) and episodes
    # their theatre files documented. Entered in assessed_files with the assessments, in
    # one transaction, so a run killed before it assessed leaves its files to the next.
    con.execute(
        "create or replace temp table assessment_scope as "
        "select file_id from input_files anti join assessed_files using (file_id)"
    )
    assessed = 0
    con.begin()
    try:
        for rule in load_catalogue().rules:
            findings = con.sql(sql(f"rules/{rule['id']}")).pl()
            Assessment.validate(findings)  # the findings-out contract; a failure is a bug
            con.register("findings", findings)
            con.execute("insert into assessments select ?, * from findings", [run_id])
            con.unregister("findings")
            assessed += findings.height
        con.execute("insert into assessed_files select file_id, ? from assessment_scope", [run_id])
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return assessed
