"""The run records: a run's start, its counts and stages, its audit files, its end; runs
interrupted or left unreported, recovered or taken over by the next run."""

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from liver_audit.progress import StageRecord
from liver_audit.warehouse.housekeeping import (
    SPILL_FILE,
    clear_left_by_ended_processes,
    database_file,
    delivered_folder,
)
from liver_audit.warehouse.schema import catalogue_version, sql


def recover_interrupted_runs(con: duckdb.DuckDBPyConnection) -> int:
    """Under the run lock no other run is alive: a run still marked running was killed.
    Mark it failed, and remove what only an unfinished load refers to (its transaction
    rolled back with it): raw views and tables, staging inputs, kept copies. Returns the
    runs marked."""
    interrupted = con.execute(sql("runs_interrupted")).fetchall()
    loaded = {table for (table,) in con.execute("select raw_table from input_files").fetchall()}
    orphans = con.execute(sql("raw_objects")).fetchall()
    for kind, name in orphans:
        if name not in loaded:
            con.execute(f'drop {kind} "{name}"')
    folder = delivered_folder(con)
    if folder is not None and folder.is_dir():
        for kept in folder.iterdir():
            if kept.name.split(".")[0] not in loaded:
                kept.unlink()
    if database_file(con) is not None:  # a killed run's or sql session's spill files
        (spill,) = con.execute("select current_setting('temp_directory')").fetchall()[0]
        clear_left_by_ended_processes(Path(spill), SPILL_FILE)
    return len(interrupted)


def take_over_unreported_runs(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Earlier runs that loaded files but never wrote their audit files (failed, or killed
    once a load had committed; sql/runs_taken_over.sql) are reported by this run: their
    files join this run's audit files and their episodes are assessed again with this
    run's, so that a re-run writes what one uninterrupted run would have. Their counts and
    assessments go: this run's summary holds them. Returns how many runs."""
    con.begin()
    taken = con.execute(sql("runs_taken_over"), {"run": run_id}).fetchall()
    for table in ["assessments", "assessed_files", "run_outcomes"]:
        con.execute(
            f"delete from {table} where run_id in (select unnest($taken))",
            {"taken": [taken_run for (taken_run,) in taken]},
        )
    con.commit()
    return len(taken)


def record_audit_files(con: duckdb.DuckDBPyConnection, run_id: str, folder: Path) -> None:
    """The run's audit files are all written, in `folder`: nothing of it is left to report."""
    con.execute("update runs set audit_files = ? where run_id = ?", [str(folder.resolve()), run_id])


def utc_now() -> datetime:
    """Now in UTC, as the naive timestamp the warehouse stores (its columns are UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def start_run(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Record the run as running, with its catalogue version."""
    con.execute(
        "insert into runs (run_id, started_at, status, catalogue_version) "
        "values (?, ?, 'running', ?)",
        [run_id, utc_now(), catalogue_version(con)],
    )


def record_summary(con: duckdb.DuckDBPyConnection, summary: dict) -> None:
    """Record the run's counts and outcome counts (summary.json's figures: counts only)."""
    run_id = summary["run_id"]
    con.begin()
    con.execute(
        """
        update runs set rows_read = ?, rows_loaded = ?, rows_quarantined = ?,
            procedures_assessed = ?, summary = ?, catalogue_version = ?
        where run_id = ?
        """,
        [summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"],
         summary["procedures_assessed"], json.dumps(summary, default=str), summary["catalogue_version"],
         run_id],
    )  # fmt: skip
    con.execute("delete from run_outcomes where run_id = ?", [run_id])
    con.executemany(
        "insert into run_outcomes (run_id, rule_id, outcome, findings, severity, needs_action) "
        "values (?, ?, ?, ?, ?, ?)",
        [
            [
                run_id,
                rule["rule_id"],
                outcome["outcome"],
                outcome["findings"],
                outcome["severity"],
                outcome["needs_action"],
            ]
            for rule in summary["rules"]
            for outcome in rule["outcomes"]
        ],
    )
    con.commit()


def finish_run(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, error: str | None = None
) -> None:
    """Record how the run ended: completed or failed, and why it failed."""
    con.execute(
        "update runs set finished_at = ?, status = ?, error = ? where run_id = ?",
        [utc_now(), status, error, run_id],
    )


def record_stages(con: duckdb.DuckDBPyConnection, run_id: str, records: list[StageRecord]) -> None:
    """Record a task's timed stages in run_stages."""
    if not records:
        return
    con.executemany(
        "insert into run_stages by name select ? as run_id, ? as stage, ? as file_name, "
        "? as started_at, ? as seconds, ? as rows, ? as status, ? as error, ? as worker",
        [
            [run_id, r.stage, r.file_name, r.started_at.astimezone(UTC).replace(tzinfo=None),
             r.seconds, r.rows, r.status, r.error, r.worker]
            for r in records
        ],
    )  # fmt: skip
