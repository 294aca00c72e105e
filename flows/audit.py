"""The audit run as a Prefect flow. It only sequences the steps; the work is in liver_audit/.

load each file -> check counts reconcile -> assess -> write the audit files -> publish counts
"""

import secrets
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
from liver_audit.outputs import write_outputs
from liver_audit.progress import stage
from liver_audit.warehouse import record_run, warehouse

DEFAULT_WAREHOUSE = "data/warehouse.duckdb"


def new_run_id() -> str:
    """Sortable by time, unique across machines: 20261121T020000Z-3f9a1c."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@task(name="load-file")
def load_input(warehouse_path: str, path: str, kind: str, run_id: str) -> dict:
    with no_row_values(f"loading {Path(path).name}"), warehouse(warehouse_path) as con:
        result = load_file(con, Path(path), kind, run_id).as_dict()
    get_run_logger().info(
        "%s: %d rows read, %d loaded, %d quarantined",
        result["file_name"], result["rows_read"], result["rows_loaded"], result["rows_quarantined"],
    )  # fmt: skip
    return result


@task(name="assess")
def assess_episodes(warehouse_path: str, run_id: str) -> int:
    stage("assessing")
    with no_row_values("assessing"), warehouse(warehouse_path) as con:
        assessed = assess(con, run_id)
    stage(f"{assessed:,} procedures assessed")
    get_run_logger().info("%d procedures assessed", assessed)
    return assessed


@task(name="write-audit-files")
def write_audit_files(warehouse_path: str, run_id: str, out_dir: str) -> dict:
    stage("writing the audit files")
    with no_row_values("writing the audit files"), warehouse(warehouse_path) as con:
        return write_outputs(con, run_id, Path(out_dir))


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
            f"procedures assessed {summary['procedures_assessed']}.\n\n"
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
        record_run(con, run_id, "running")
    try:
        files = [load_input(warehouse_path, path, "episode_extract", run_id) for path in extracts]
        if theatre:
            files.append(load_input(warehouse_path, theatre, "theatre_records", run_id))
        check_reconciled(files)
        assess_episodes(warehouse_path, run_id)
        summary = write_audit_files(warehouse_path, run_id, str(out))
        summary["out_dir"] = str(out)
        publish(summary, out)
    except BaseException:
        with warehouse(warehouse_path) as con:
            record_run(con, run_id, "failed")
        raise
    with warehouse(warehouse_path) as con:
        record_run(con, run_id, "completed", summary)
    return summary
