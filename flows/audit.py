"""The audit run as a Prefect flow. It only sequences the steps; the work is in liver_audit/.

load each file -> check counts reconcile -> assess -> summarise -> write the audit files
-> publish counts; every stage is timed into the warehouse's run_stages table.
"""

import secrets
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)

from liver_audit.assess import assess
from liver_audit.errors import ReconciliationError, no_row_values
from liver_audit.load import load_file
from liver_audit.outputs import build_summary, write_outputs
from liver_audit.progress import Stages
from liver_audit.report import compliance
from liver_audit.warehouse import finish_run, record_stages, record_summary, start_run, warehouse

DEFAULT_WAREHOUSE = "data/warehouse.duckdb"


def new_run_id() -> str:
    """Sortable by time, unique across machines: 20261121T020000Z-3f9a1c."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@contextmanager
def timed(warehouse_path: str, run_id: str, task: str, file_name: str | None = None):
    """A task's warehouse connection and stage timer; its stages are recorded in run_stages
    and logged (counts only) whether the task completes or fails."""
    stages = Stages(file_name)
    try:
        with no_row_values(f"{task} {file_name or ''}".strip()), warehouse(warehouse_path) as con:
            yield con, stages
    finally:
        with no_row_values("recording stage timings"), warehouse(warehouse_path) as con:
            record_stages(con, run_id, stages.records)
        logger = get_run_logger()
        for record in stages.records:
            logger.info(record.describe())


@task(name="load-file")
def load_input(warehouse_path: str, path: str, kind: str, run_id: str) -> dict:
    with timed(warehouse_path, run_id, "loading", Path(path).name) as (con, stages):
        return load_file(con, Path(path), kind, run_id, stages).as_dict()


@task(name="assess")
def assess_episodes(warehouse_path: str, run_id: str) -> int:
    with timed(warehouse_path, run_id, "assessing") as (con, stages):
        with stages("assess") as assessing:
            assessing.rows = assess(con, run_id)
    return assessing.rows


@task(name="summarise")
def summarise(warehouse_path: str, run_id: str) -> dict:
    with timed(warehouse_path, run_id, "summarising") as (con, stages):
        with stages("summarise"):
            summary = build_summary(con, run_id)
            record_summary(con, summary)
    return summary


@task(name="write-audit-files")
def write_audit_files(warehouse_path: str, summary: dict, out_dir: str) -> None:
    with timed(warehouse_path, summary["run_id"], "writing the audit files") as (con, stages):
        with stages("write") as writing:
            writing.rows = write_outputs(con, summary, Path(out_dir))


def check_reconciled(files: list[dict]) -> None:
    """Every input row is loaded or quarantined: rows_read = rows_loaded + rows_quarantined."""
    for file in files:
        if file["rows_read"] != file["rows_loaded"] + file["rows_quarantined"]:
            raise ReconciliationError(f"{file['file_name']}: counts do not reconcile")


def publish(summary: dict, out_dir: Path) -> None:
    """Counts only: Prefect artifacts must never carry episode-level values."""
    create_table_artifact(
        key="liver-audit-outcomes",
        table=[{"outcome": k, "procedures": v} for k, v in summary["outcomes"].items()],
        description=f"Outcomes, run {summary['run_id']}",
    )
    report = (out_dir / "report.html").resolve()
    create_link_artifact(
        key="liver-audit-report",
        link=report.as_uri(),
        link_text="report.html",
        description=f"Audit report, run {summary['run_id']} (episode-level: inside the trust)",
    )
    create_markdown_artifact(
        key="liver-audit-run",
        markdown=(
            f"# liver-audit run {summary['run_id']}\n\n"
            f"rows read {summary['rows_read']}, loaded {summary['rows_loaded']}, "
            f"quarantined {summary['rows_quarantined']}; "
            f"procedures assessed {summary['procedures_assessed']}, "
            f"{compliance(summary)} compliant.\n\n"
            f"Audit files: `{out_dir.resolve()}`"
        ),
    )


@flow(name="liver-audit")
def audit_run(
    extracts: list[str],
    theatre: str | None = None,
    warehouse_path: str = DEFAULT_WAREHOUSE,
    out_dir: str | None = None,
    run_id: str | None = None,
) -> dict:
    """Load episode extracts (and a theatre file), assess them, write the audit files."""
    run_id = run_id or new_run_id()
    out = Path(out_dir or Path("reports") / run_id)
    with warehouse(warehouse_path) as con:
        start_run(con, run_id)
    status = "failed"
    try:
        files = [load_input(warehouse_path, path, "episode_extract", run_id) for path in extracts]
        if theatre:
            files.append(load_input(warehouse_path, theatre, "theatre_records", run_id))
        check_reconciled(files)
        assess_episodes(warehouse_path, run_id)
        summary = summarise(warehouse_path, run_id)
        write_audit_files(warehouse_path, summary, str(out))
        publish(summary, out)
        status = "completed"
    finally:
        with warehouse(warehouse_path) as con:
            finish_run(con, run_id, status)
    return summary | {"out_dir": str(out)}
