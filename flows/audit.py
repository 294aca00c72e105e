"""The audit run as a Prefect flow. It only sequences the steps; the work is in liver_audit/.

load each file -> check counts reconcile -> assess -> summarise -> write the audit files
-> publish counts; every stage is timed into the warehouse's run_stages table.
"""

import atexit
import secrets
from contextlib import ExitStack, closing, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from liver_audit import fan_out
from liver_audit.assess import assess
from liver_audit.config import Settings
from liver_audit.errors import (
    ReconciliationError,
    RefusedFiles,
    TransientFailure,
    UnusableInput,
    WarehouseBusy,
    failure_reason,
    no_row_values,
)
from liver_audit.export import export_parquet
from liver_audit.fan_out import FannedOut
from liver_audit.inbox import (
    PROCESSED,
    REFUSED,
    Delivery,
    DeliveryOrder,
    as_text,
    move_beside,
    move_from_inbox,
    plan_deliveries,
    record_deliveries,
)
from liver_audit.layouts import layouts_of
from liver_audit.load import LongFile, load_file, load_long
from liver_audit.outputs import build_summary, in_reports, write_index, write_outputs
from liver_audit.prefect_server import stop_prefect_loops
from liver_audit.progress import Stages
from liver_audit.report import code_checks_note, compliance
from liver_audit.review import read_returned_worklists, returned_folder
from liver_audit.warehouse import (
    cursor,
    finish_run,
    load_reference_tables,
    record_audit_files,
    record_stages,
    record_summary,
    recover_interrupted_runs,
    run_lock,
    start_run,
    take_over_unreported_runs,
    warehouse,
)

# Every process that runs this flow (the CLI, serve's flow-run processes) ends quietly.
atexit.register(stop_prefect_loops)


def new_run_id() -> str:
    """Sortable by time, unique across machines: 20261121T020000Z-3f9a1c."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@contextmanager
def timed(con: duckdb.DuckDBPyConnection, run_id: str, task: str, file_name: str | None = None):
    """A task's stage timer, on the task's cursor of the run's session; its stages are
    recorded in run_stages and logged (counts only) whether the task completes or fails."""
    stages = Stages(file_name)
    try:
        with no_row_values(f"{task} {file_name or ''}".strip()):
            yield stages
    except BaseException:
        # A task retried gets the same cursor: not in the transaction this attempt left.
        with suppress(duckdb.Error):
            con.rollback()
        raise
    finally:
        with no_row_values("recording stage timings"), closing(con.cursor()) as recording:
            record_stages(recording, run_id, stages.records)
        logger = get_run_logger()
        for record in stages.records:
            logger.info(record.describe())


def transient(task, task_run, state) -> bool:
    """Retry a task only for I/O trouble (a file or the warehouse busy or unreadable); a
    bad file or a bug fails the same way every time."""
    return isinstance(state.result(raise_on_failure=False), (TransientFailure, WarehouseBusy))


# Tasks take a cursor of the run's session (cache_policy=NO_CACHE: a connection is no input
# to hash); `settings` whole where they read one.


@task(name="plan-deliveries", cache_policy=NO_CACHE)
def plan(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, extracts: list[str],
         theatre: str | None, reload: bool) -> list[Delivery]:  # fmt: skip
    with timed(con, run_id, "checking the inputs") as stages:
        with stages("plan") as planning:
            deliveries = plan_deliveries(
                con, [Path(p) for p in extracts], theatre and Path(theatre), settings.inbox,
                reload, layouts_of(settings), settings.layout,
            )  # fmt: skip
            record_deliveries(con, run_id, deliveries)
            planning.rows = len(deliveries)
    logger = get_run_logger()
    for delivery in deliveries:
        if delivery.action != "load":
            logger.warning("%s: %s: %s", as_text(delivery.name), delivery.action, delivery.reason)
    return deliveries


@task(name="load-file", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=transient,
      cache_policy=NO_CACHE)  # fmt: skip
def load_input(
    con: duckdb.DuckDBPyConnection,
    delivery: Delivery,
    run_id: str,
    order: DeliveryOrder,
    index: int,
    fanned_out: FannedOut | None = None,
) -> list[dict]:
    """Load one delivery: a file, or a long layout's files together (on this machine)."""
    with timed(con, run_id, "loading", delivery.name) as stages:
        path, turn = Path(delivery.path), order.turn(index)
        if delivery.companions:
            files = [LongFile(Path(d.path), d.kind, d.file_id, d.sha256) for d in delivery.files]
            results = load_long(con, files, delivery.layout, run_id, stages, turn)
        elif fanned_out is None:
            results = [
                load_file(
                    con, path, delivery.kind, run_id, stages, delivery.sha256, turn,
                    delivery.file_id, delivery.layout,
                )
            ]  # fmt: skip
        else:
            results = [fan_out.load_from_worker(con, fanned_out, delivery, run_id, stages, turn)]
        return [result.as_dict() for result in results]


@task(name="fan-out", cache_policy=NO_CACHE)
def hand_out(
    con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, loads: list[Delivery]
) -> FannedOut:
    """Hand every file to the work pool's workers at once (one flow run each)."""
    with timed(con, run_id, "handing files to the workers") as stages:
        with stages("fan-out") as handing:
            fanned_out = fan_out.hand_out(con, settings, run_id, loads)
            handing.rows = len(fanned_out.flow_runs)
    return fanned_out


@task(name="assess", cache_policy=NO_CACHE)
def assess_episodes(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    with timed(con, run_id, "assessing") as stages:
        with stages("assess") as assessing:
            assessing.rows = assess(con, run_id)
    return assessing.rows


@task(name="summarise", cache_policy=NO_CACHE)
def summarise(con: duckdb.DuckDBPyConnection, run_id: str, returned: list[dict]) -> dict:
    with timed(con, run_id, "summarising") as stages:
        with stages("summarise"):
            summary = build_summary(con, run_id, returned)
            record_summary(con, summary)
    return summary


@task(name="read-verdicts", cache_policy=NO_CACHE)
def read_verdicts(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str) -> list[dict]:
    """The worklists auditors returned to INBOX/returned/: their verdicts into the warehouse
    (each refused row or file logged in one line: sheet and row, never a value)."""
    with timed(con, run_id, "reading returned worklists") as stages:
        with stages("review") as reading:
            returned = read_returned_worklists(con, settings.inbox)
            reading.rows = sum(r["verdicts"] for r in returned)
    logger = get_run_logger()
    for result in returned:
        for line in [result["refused"]] if result["refused"] else result["rows_refused"]:
            logger.warning("%s", line)
        if settings.move_processed:
            move_beside(Path(result["path"]), REFUSED if result["refused"] else PROCESSED,
                        run_id)  # fmt: skip
    return returned


@task(name="write-audit-files", retries=2, retry_delay_seconds=[5, 30],
      retry_condition_fn=transient, cache_policy=NO_CACHE)  # fmt: skip
def write_audit_files(
    con: duckdb.DuckDBPyConnection, settings: Settings, summary: dict, out_dir: Path
) -> None:
    with timed(con, summary["run_id"], "writing the audit files") as stages:
        with stages("write") as writing:
            writing.rows = write_outputs(con, settings, summary, out_dir)
        record_audit_files(con, summary["run_id"], out_dir)


@task(name="export-parquet", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=transient,
      cache_policy=NO_CACHE)  # fmt: skip
def export_to_parquet(con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str) -> None:
    with timed(con, run_id, "exporting to Parquet") as stages:
        with stages("export") as exporting:
            exporting.rows = sum(export_parquet(con, settings.parquet).values())


def check_reconciled(files: list[dict]) -> None:
    """Every input row is loaded or quarantined: rows_read = rows_loaded + rows_quarantined."""
    for file in files:
        if file["rows_read"] != file["rows_loaded"] + file["rows_quarantined"]:
            raise ReconciliationError(f"{file['file_name']}: counts do not reconcile")


def publish(summary: dict, out_dir: Path | None) -> None:
    """Counts only: Prefect artifacts must never carry episode-level values."""
    run_id = summary["run_id"]
    skipped = [f"{f['file_name']} ({f['reason']})" for f in summary["files_skipped"]]
    returned = sum(r["verdicts"] for r in summary.get("worklists_returned", []))
    lines = [f"# liver-audit run {run_id}", ""]
    if out_dir is None:
        lines.append(
            "Nothing new: no file or verdict to read, so no audit files were written; the "
            "latest run's report still shows the position (reports/index.html)."
        )
    else:
        create_table_artifact(
            key="liver-audit-outcomes",
            table=[
                {
                    "rule": rule["rule_id"],
                    "outcome": outcome["outcome"],
                    "findings": outcome["findings"],
                }
                for rule in summary["rules"]
                for outcome in rule["outcomes"]
            ],  # fmt: skip
            description=f"Findings by rule and outcome, run {run_id}",
        )
        create_link_artifact(
            key="liver-audit-report",
            link=(out_dir / "report.html").resolve().as_uri(),
            link_text="report.html",
            description=f"Audit report, run {run_id} (episode-level: inside the trust)",
        )
        lines += [
            f"rows read {summary['rows_read']}, loaded {summary['rows_loaded']}, "
            f"quarantined {summary['rows_quarantined']}; "
            f"procedures assessed {summary['procedures_assessed']}, "
            f"findings {summary['findings']}.",
            f"The {note}." if (note := code_checks_note(summary)) else "",
            "",
            *(
                f"- {rule['rule_id']}: {rule['findings']} findings in this run, "
                f"{compliance(rule)} compliant, {rule['needing_action']} needing action"
                for rule in summary["rules"]
            ),
            "",
            f"Verdicts read from returned worklists: {returned}." if returned else "",
            "The report and worklist show the whole position: every episode held.",
            f"Audit files: `{out_dir.resolve()}`",
        ]
    if skipped:
        lines += ["", "Skipped: " + "; ".join(skipped)]
    create_markdown_artifact(key="liver-audit-run", markdown="\n".join(lines))


def publish_failure(run_id: str, reason: str) -> None:
    """The failed run's record in Prefect: which file and stage, and why (no row values)."""
    create_markdown_artifact(
        key="liver-audit-run",
        markdown=f"# liver-audit run {run_id} failed\n\n{reason}\n\n"
        f"Each stage's record: `liver-audit history --run {run_id}`",
    )


@flow(name="liver-audit")
def audit_run(
    settings: Settings,
    extracts: list[str] | None = None,
    theatre: str | None = None,
    out_dir: str | None = None,
    run_id: str | None = None,
    reload: bool = False,
) -> dict:
    """Load the new files (named, or from the settings' inbox), assess them, write the audit
    files into `out_dir` (default: the settings' reports folder/<run id>). One run at a time
    per warehouse; a file already loaded is skipped unless `reload`. With a work pool in
    the settings, the pool's workers read, stage and validate the files (fan-out), handing
    them back through the work folder, which they and this run share."""
    run_id = run_id or new_run_id()
    with run_lock(settings.warehouse, settings.wait_for_warehouse), ExitStack() as held:
        with no_row_values("opening the warehouse"):
            # The run's one session: each task gets a cursor of it (its own connection to
            # the same database), held open until the run has recorded its end.
            con = held.enter_context(warehouse(settings.warehouse, settings.memory_limit))
            interrupted = recover_interrupted_runs(con)
            start_run(con, run_id)
            taken_over = take_over_unreported_runs(con, run_id)
        if interrupted:
            get_run_logger().warning("%d earlier run(s) had been interrupted", interrupted)
        if taken_over:
            get_run_logger().warning(
                "%d earlier run(s) loaded files but wrote no audit files: reported in this run's",
                taken_over,
            )
        status, reason = "failed", None
        out = Path(out_dir) if out_dir else settings.reports / run_id
        try:
            summary = audit(con, settings, run_id, extracts or [], theatre, out, reload)
            status = "completed"
            return summary
        except BaseException as error:
            reason = failure_reason(error)
            publish_failure(run_id, reason)
            raise
        finally:
            try:
                with no_row_values("recording the run's end"), closing(con.cursor()) as ending:
                    finish_run(ending, run_id, status, reason)
            except Exception:
                if status == "completed":
                    raise
                # the run's own failure is the one to report; this one goes to the log
                get_run_logger().error("could not record the failed run's end")
            index_runs(con, settings, out)


def index_runs(con: duckdb.DuckDBPyConnection, settings: Settings, out: Path) -> None:
    """reports/index.html, every run's report, once the run has recorded its end: when the
    run's files go in the reports folder (not elsewhere, with --out). Rebuilt from the
    warehouse by every run, so a failure here is logged, never the run's."""
    if not in_reports(settings, out):
        return
    try:
        with no_row_values("writing reports/index.html"), closing(con.cursor()) as indexing:
            write_index(indexing, settings.reports)
    except Exception as error:
        get_run_logger().error("could not write reports/index.html: %s", failure_reason(error))


def load_in_order(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    loads: list[Delivery],
    workers: int,
    fanned_out: FannedOut | None = None,
) -> list[dict]:
    """Load the files `workers` at a time (the setting load_workers: reading and validating
    one while another is written), writing each in delivery order, so the latest delivery of
    an episode wins. A file found unusable is refused and the rest go on; any other failure
    stops the files after it."""
    order = DeliveryOrder()
    with ExitStack() as held:
        runner = held.enter_context(ThreadPoolTaskRunner(max_workers=workers))
        futures = [
            runner.submit(
                load_input,
                {
                    "con": held.enter_context(cursor(con)),  # each its own: loads run in threads
                    "delivery": delivery,
                    "run_id": run_id,
                    "order": order,
                    "index": index,
                    "fanned_out": fanned_out,
                },
            )
            for index, delivery in enumerate(loads)
        ]
        files, failure = [], None
        for index, (delivery, future) in enumerate(zip(loads, futures)):
            try:
                files += future.result()
            except UnusableInput as error:
                for file in delivery.files:  # a long delivery's files together
                    file.action, file.reason = "refuse", str(error)
                with cursor(con) as refusing:
                    record_deliveries(refusing, run_id, delivery.files)
                order.pass_over(index)
            except BaseException as error:
                for file in delivery.files:  # neither loaded nor refused: stay in the inbox
                    file.action = "failed"
                failure = failure or error
                order.halt()
    if failure:
        raise failure
    return files


def audit(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_id: str,
    extracts: list[str],
    theatre: str | None,
    out: Path,
    reload: bool,
) -> dict:
    """The run's steps, in order, each on a cursor of the run's session `con` (audit_run
    holds the lock and keeps the record)."""
    with no_row_values("loading reference data"), cursor(con) as reference:
        load_reference_tables(reference, settings)
    with cursor(con) as planning:
        deliveries = plan(planning, settings, run_id, extracts, theatre, reload)
    # a long layout's files load as one delivery, its episodes file's
    loads = [d for d in deliveries if d.action == "load" and d.loaded_with is None]
    fanned_out = None
    try:
        if settings.work_pool and loads:
            with cursor(con) as handing:
                # a long delivery's files are read side by side on this machine
                handed = [d for d in loads if not d.companions]
                fanned_out = hand_out(handing, settings, run_id, handed)
        files = load_in_order(con, run_id, loads, settings.load_workers, fanned_out)
    finally:
        if settings.work_pool and loads:  # also after a hand-out that failed part way
            fan_out.clear_up(settings.work_folder, run_id)
        if settings.move_processed:
            for delivery in deliveries:
                move_from_inbox(delivery, run_id)
    check_reconciled(files)
    with cursor(con) as reporting:
        returned = (
            read_verdicts(reporting, settings, run_id) if returned_folder(settings.inbox) else []
        )
        # Also assesses the files of the runs it took over (loaded, never reported).
        assessed = assess_episodes(reporting, run_id)
        summary = summarise(reporting, run_id, returned)
        # New files, findings, or verdicts since the last report change the position.
        new = bool(summary["files"] or assessed or summary["verdicts_since_last_report"])
        if new:
            write_audit_files(reporting, settings, summary, out)
            if settings.parquet:
                export_to_parquet(reporting, settings, run_id)
    publish(summary, out if new else None)
    summary["out_dir"] = str(out) if new else None
    refused = [d for d in deliveries if d.action == "refuse"]
    if refused:
        raise RefusedFiles("refused " + "; ".join(d.reason for d in refused), summary)
    return summary
