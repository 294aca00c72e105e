"""Fan-out: each input file is read, staged and validated by a Prefect worker, on whichever
machine takes it; the run then loads the prepared file into the warehouse in delivery order.

The one-machine path reads, stages and validates in the warehouse itself (load.prepare_file).
Here a worker does the same in a scratch DuckDB of its own and hands the result over as
Parquet in a folder the run and every worker share (`work_folder`): the staged tables, the
malformed lines and the failed checks, then a manifest (counts, stage timings, which
worker), written last. The run keeps its own copy of the delivered file, reads the rest
back (`collect`) and writes them exactly as if it had prepared the file itself, so the
warehouse, the quarantine and the audit files are the same either way.
"""

import json
import os
import re
import shutil
import socket
import tempfile
import threading
import time
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from liver_audit import ROOT
from liver_audit.config import Settings, from_environment
from liver_audit.errors import StageFailed, UnusableInput, failure_reason, no_row_values
from liver_audit.extracts import RawFile, discard, keep_delivered
from liver_audit.layouts import Layout
from liver_audit.load import FILE_KINDS, FileResult, PreparedFile, prepare_file, write_prepared
from liver_audit.progress import StageRecord, Stages
from liver_audit.warehouse import clear_left_by_ended_processes, connect, delivered_folder

PREPARE_FLOW = "liver-audit-prepare"
ENTRYPOINT = "flows/fan_out.py:prepare_on_worker"
MANIFEST, FAILURE = "manifest.json", "failure.json"
# A worker's scratch folder, in the machine's temporary folder: SCRATCH<host>-<pid>-<random>.
SCRATCH = "liver-audit-scratch-"
# How often the run asks the server whether a worker has finished a file.
POLL_SECONDS = 1.0
# A worker preparing a file beats in the file's folder this often; the run hands a file whose
# worker has not beaten for worker_timeout seconds (the setting, LIVER_AUDIT_WORKER_TIMEOUT)
# to the pool again (a machine that died leaves its flow run RUNNING for ever, and the
# nightly run would wait for ever with it).
HEARTBEAT, HEARTBEAT_SECONDS = "heartbeat", 10.0
# A file whose worker stopped goes back to the pool this many times (another machine takes
# it); not more, in case the file itself is what stops them (a worker killed for memory).
HAND_BACK_TIMES = 1
CLEAR_UP_TRIES = 10


class WorkerStopped(StageFailed):
    """The worker preparing a file stopped beating (its machine died, or the worker)."""


def worker_name() -> str:
    """Where a file was prepared, for run_stages: LIVER_AUDIT_WORKER, else the host name."""
    return from_environment("LIVER_AUDIT_WORKER")[0] or socket.gethostname()


def file_folder(work_folder: Path, run_id: str, file_id: int, attempt: int = 0) -> Path:
    """Where a worker hands a file back; a file handed out again gets a new folder, so a
    worker thought dead that wakes up cannot write into the one the run reads."""
    return work_folder / run_id / (f"file-{file_id}-{attempt}" if attempt else f"file-{file_id}")


def run_tag(run_id: str) -> str:
    """The tag of every flow run a run hands out, to find them all at its end."""
    return f"liver-audit-run-{run_id}"


# --- on the worker ----------------------------------------------------------------------


def prepare_to_folder(
    path: Path,
    kind: str,
    file_id: int,
    folder: Path,
    synonyms: list[list[str]],
    layout: dict | None = None,
) -> None:
    """Read, stage and validate one file in a scratch DuckDB, then write the result to
    `folder`. A failure is written there too (failure.json: our one-line message for an
    unusable file, the error's type otherwise) before it is raised."""
    shutil.rmtree(folder, ignore_errors=True)  # a retried file starts clean
    try:
        # Never the run's folder: gone, the run has ended, and no episode-level rows are
        # to be left behind by a worker that takes a file late or was taken for dead.
        folder.mkdir()
    except FileNotFoundError:
        raise StageFailed(
            f"{path.name}: its run's work folder is gone (the run has ended, or the share "
            "is not mounted here)"
        ) from None
    stages = Stages(path.name)
    try:
        with (
            beating(folder / HEARTBEAT),
            no_row_values(f"preparing {path.name}"),
            scratch_warehouse(synonyms) as con,
        ):
            prepared = prepare_file(
                con, path, kind, stages, file_id, keep=False,
                layout=layout and Layout.from_parameter(layout),
            )  # fmt: skip
            save_prepared(con, prepared, folder, stages.records)
    except BaseException as error:
        failure = {
            "unusable": isinstance(error, UnusableInput),
            "reason": failure_reason(error),
            "stages": stage_records(stages.records),
        }
        (folder / FAILURE).write_text(json.dumps(failure))
        raise


@contextmanager
def beating(path: Path):
    """While the block runs, write the worker's name and a new count to `path` every
    HEARTBEAT_SECONDS: the run sees the worker is alive (a count, not a time: the machines'
    clocks may differ), and an operator sees who is preparing the file."""
    stop = threading.Event()

    def beat() -> None:
        count, worker = 0, worker_name()
        while True:
            count += 1
            try:
                path.write_text(f"{worker} {count}")
            except OSError:  # the share blinked, or the run already cleared the folder
                pass
            if stop.wait(HEARTBEAT_SECONDS):
                return

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextmanager
def scratch_warehouse(synonyms: list[list[str]]):
    """A throw-away DuckDB file on this machine (it spills under the same memory limit as
    the warehouse), with the run's approach synonym table. Its folder is named after this
    process, so that one a killed process left (episode-level rows) is deleted by the next
    file prepared on the machine."""
    this_machine = f"{SCRATCH}{socket.gethostname()}-"
    clear_left_by_ended_processes(
        Path(tempfile.gettempdir()), re.escape(this_machine) + r"(\d+)-[^-]+"
    )
    with tempfile.TemporaryDirectory(prefix=f"{this_machine}{os.getpid()}-") as scratch:
        con = connect(Path(scratch) / "prepare.duckdb")
        try:
            frame = pl.DataFrame(synonyms, schema=["synonym", "approach"], orient="row")
            con.register("synonym_rows", frame)
            con.execute("create or replace table approach_synonyms as from synonym_rows")
            con.unregister("synonym_rows")
            yield con
        finally:
            con.close()


def save_prepared(
    con: duckdb.DuckDBPyConnection,
    prepared: PreparedFile,
    folder: Path,
    records: list[StageRecord],
) -> None:
    """The prepared file as Parquet in `folder`, the manifest last: its presence says the
    rest is complete."""
    raw = prepared.raw
    for table in connection_tables(raw.kind):
        con.execute(f"copy {table} to '{folder / table}.parquet' (format parquet)")
    prepared.failures.write_parquet(folder / "failures.parquet")
    manifest = {
        "file_id": prepared.file_id,
        "path": str(raw.path),
        "kind": raw.kind,
        "file_format": raw.file_format,
        "raw_table": raw.raw_table,
        "rows_read": raw.rows_read,
        "malformed_lines": raw.malformed_lines,
        "columns": raw.columns,
        "written": raw.written,
        "stages": stage_records(records),
    }
    partial = folder / f"{MANIFEST}.partial"
    partial.write_text(json.dumps(manifest))
    partial.rename(folder / MANIFEST)


def connection_tables(kind: str) -> list[str]:
    """The temporary tables load.prepare_file leaves on its connection: what a worker hands
    over and the run reads back."""
    return ["raw_malformed_lines", *FILE_KINDS[kind].staged]


def stage_records(records: list[StageRecord]) -> list[dict]:
    worker = worker_name()
    return [asdict(r) | {"started_at": r.started_at.isoformat(), "worker": worker} for r in records]


# --- in the run -------------------------------------------------------------------------


@dataclass(frozen=True)
class FannedOut:
    """Files handed to Prefect workers: the pool, where they hand them back, each file's
    flow run, the synonym table they were given (to hand a file out again), and how long a
    worker may be silent."""

    work_pool: str
    work_folder: Path
    flow_runs: dict[int, str]  # file id -> the worker's flow run id
    synonyms: list[list[str]]
    worker_timeout: float


def hand_out(
    con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, loads: list
) -> FannedOut:
    """Hand every file to the settings' work pool's workers at once, with the run's synonym
    table."""
    work_pool, work_folder = settings.work_pool, settings.work_folder
    synonyms = [
        list(row)
        for row in con.execute("select synonym, approach from approach_synonyms").fetchall()
    ]
    ensure_deployment(work_pool)
    (work_folder / run_id).mkdir(parents=True, exist_ok=True)  # see prepare_to_folder
    flow_runs = {
        delivery.file_id: dispatch(work_pool, run_id, delivery, work_folder, synonyms)
        for delivery in loads  # in delivery order: the pool's workers take them as they are free
    }
    return FannedOut(work_pool, work_folder, flow_runs, synonyms, settings.worker_timeout)


def load_from_worker(
    con: duckdb.DuckDBPyConnection,
    fanned_out: FannedOut,
    delivery,
    run_id: str,
    stages: Stages,
    turn: AbstractContextManager,
) -> FileResult:
    """Wait for the worker that prepares the file, read its result into the warehouse and
    write it there, in the file's turn; then delete the file's part of the work folder. A
    file whose worker stops is handed to the pool again (HAND_BACK_TIMES)."""
    flow_run = fanned_out.flow_runs[delivery.file_id]
    for attempt in range(HAND_BACK_TIMES + 1):
        folder = file_folder(fanned_out.work_folder, run_id, delivery.file_id, attempt)
        try:
            with stages("wait"):
                final_state = wait_for(
                    flow_run, folder, delivery.name, fanned_out.work_pool, fanned_out.worker_timeout
                )
                if final_state == "CRASHED" and not (folder / FAILURE).exists():
                    # its process was killed (say, for memory) with no word on why
                    raise WorkerStopped(f"{delivery.name}: the flow run preparing it crashed")
            break
        except WorkerStopped as stopped:
            abandon(flow_run)
            if attempt == HAND_BACK_TIMES:
                raise StageFailed(
                    f"{stopped}, on each of {attempt + 1} tries; the next run prepares it again"
                )
            flow_run = dispatch(
                fanned_out.work_pool, run_id, delivery, fanned_out.work_folder,
                fanned_out.synonyms, attempt + 1,
            )  # fmt: skip
    prepared = collect(con, folder, Path(delivery.path), final_state, stages, delivery.layout)
    result = write_prepared(con, prepared, run_id, stages, delivery.sha256, turn)
    shutil.rmtree(folder, ignore_errors=True)
    return result


def deployment_name(work_pool: str) -> str:
    return f"{PREPARE_FLOW}/{work_pool}"


def ensure_deployment(work_pool: str) -> None:
    """The work pool (a process pool, created if missing) and the deployment its workers
    run: this liver-audit's prepare flow, from this install's folder. Every worker machine
    installs liver-audit at the same path (README: Beyond one machine). Fails in one line
    if no worker of the pool is online, rather than wait all night."""
    from prefect import Flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.client.schemas.objects import WorkerStatus
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(work_pool)
        except ObjectNotFound:
            template = ProcessWorker.get_default_base_job_template()
            client.create_work_pool(
                WorkPoolCreate(name=work_pool, type="process", base_job_template=template)
            )
        workers = client.read_workers_for_work_pool(work_pool)
    if not any(worker.status == WorkerStatus.ONLINE for worker in workers):
        raise UnusableInput(
            f"work pool {work_pool}: no worker is online; start one on each machine with "
            f"`prefect worker start --pool {work_pool}`"
        )
    flow = Flow.from_source(source=str(ROOT), entrypoint=ENTRYPOINT)
    flow.deploy(
        name=work_pool,
        work_pool_name=work_pool,
        description="Reads, stages and validates one input file for a liver-audit run.",
        tags=["liver-audit"],
        print_next_steps=False,
        ignore_warnings=True,
    )


def dispatch(
    work_pool: str,
    run_id: str,
    delivery,
    work_folder: Path,
    synonyms: list[list[str]],
    attempt: int = 0,
) -> str:
    """A flow run of the prepare deployment for one file, not waited for; its id."""
    from prefect.deployments import run_deployment

    folder = file_folder(work_folder, run_id, delivery.file_id, attempt)
    flow_run = run_deployment(
        deployment_name(work_pool),
        parameters={
            "path": str(Path(delivery.path).resolve()),
            "kind": delivery.kind,
            "file_id": delivery.file_id,
            "folder": str(folder.resolve()),
            "synonyms": synonyms,
            "layout": delivery.layout and delivery.layout.as_parameter(),
        },
        flow_run_name=f"{run_id}-{folder.name}",
        timeout=0,  # do not wait: every file is handed out at once
        tags=["liver-audit", run_tag(run_id)],
    )
    return str(flow_run.id)


def abandon(flow_run_id: str) -> None:
    """Mark the flow run of a worker that stopped as crashed: no worker will finish it."""
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(
            flow_run_id, Crashed(message="its worker stopped beating"), force=True
        )


class Liveness:
    """Whether the worker preparing a file is alive: its heartbeat file has changed within
    `timeout` seconds (by this machine's clock) since the worker started on it."""

    def __init__(self, path: Path, timeout: float, clock=time.monotonic):
        self.path, self.timeout, self.clock = path, timeout, clock
        self.last_beat, self.changed_at = None, None

    def alive(self) -> bool:
        try:
            beat = self.path.read_text()
        except OSError:
            beat = None
        now = self.clock()
        if self.changed_at is None or beat != self.last_beat:
            self.last_beat, self.changed_at = beat, now
        return now - self.changed_at <= self.timeout


def wait_for(flow_run_id: str, folder: Path, file_name: str, work_pool: str, timeout: float) -> str:
    """Wait for a flow run to end; its final state's type (COMPLETED, FAILED, CRASHED...).
    Waiting for a free worker has no limit while some worker of the pool is online; with
    none online for `timeout` seconds the file fails (StageFailed). A worker that stops
    beating for `timeout` seconds while it runs raises WorkerStopped."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import WorkerStatus

    liveness, unattended_since = None, None
    with get_client(sync_client=True) as client:
        while True:
            state = client.read_flow_run(flow_run_id).state
            if state is not None and state.is_final():
                return state.type.value
            if state is not None and (state.is_pending() or state.is_running()):
                # a worker has taken it: from now on it beats, or is taken for dead
                liveness = liveness or Liveness(folder / HEARTBEAT, timeout)
                if not liveness.alive():
                    raise WorkerStopped(
                        f"{file_name}: its worker stopped (no heartbeat for {timeout:.0f} s)"
                    )
            elif any(
                worker.status == WorkerStatus.ONLINE
                for worker in client.read_workers_for_work_pool(work_pool)
            ):
                unattended_since = None
            else:
                unattended_since = unattended_since or time.monotonic()
                if time.monotonic() - unattended_since > timeout:
                    raise StageFailed(
                        f"{file_name}: no worker of pool {work_pool} is online to prepare it "
                        f"(for {timeout:.0f} s); the next run prepares it again"
                    )
            time.sleep(POLL_SECONDS)


def collect(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    path: Path,
    final_state: str,
    stages: Stages,
    layout: Layout | None = None,
) -> PreparedFile:
    """A file a worker prepared, read into the warehouse: this connection's staged tables,
    as load.prepare_file leaves them, and a copy of the delivered file kept. The
    worker's own stages (read, stage, validate) join this run's records."""
    if (folder / FAILURE).exists():
        failure = json.loads((folder / FAILURE).read_text())
        stages.records += worker_records(failure["stages"])
        kind = UnusableInput if failure["unusable"] else StageFailed
        raise kind(
            failure["reason"] if failure["unusable"] else f"{path.name}: {failure['reason']}"
        )
    if not (folder / MANIFEST).exists():
        raise StageFailed(f"{path.name}: the worker's flow run ended {final_state}, unprepared")
    manifest = json.loads((folder / MANIFEST).read_text())
    stages.records += worker_records(manifest["stages"])
    raw = RawFile(
        path, manifest["kind"], manifest["file_format"], layout, manifest["columns"],
        manifest["raw_table"], manifest["rows_read"], manifest["malformed_lines"],
        written=manifest["written"],
    )  # fmt: skip
    with stages("collect", rows=raw.rows_read):
        keep_delivered(raw, delivered_folder(con))  # the run's own copy, as on one machine
        try:
            for table in connection_tables(raw.kind):
                con.execute(
                    f"create or replace temp table {table} as from read_parquet($path)",
                    {"path": str(folder / f"{table}.parquet")},
                )
            failures = pl.read_parquet(folder / "failures.parquet")
        except BaseException:
            discard(con, raw)
            raise
    return PreparedFile(raw, manifest["file_id"], failures)


def worker_records(records: list[dict]) -> list[StageRecord]:
    return [
        StageRecord(**record | {"started_at": datetime.fromisoformat(record["started_at"])})
        for record in records
    ]


def clear_up(work_folder: Path, run_id: str) -> None:
    """At the run's end: cancel the flow runs of files it did not get to (a failure stopped
    it), and delete its part of the work folder (episode-level rows, not to linger)."""
    if not (work_folder / run_id).exists():
        return  # nothing was handed out
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
    from prefect.states import Cancelled, Cancelling

    with get_client(sync_client=True) as client:
        handed_out = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=[run_tag(run_id)]))
        )
        for flow_run in handed_out:
            state = flow_run.state
            if state is None or not state.is_final():
                # a running one is stopped by its worker; one not yet taken is just dropped
                new_state = Cancelling() if state and state.is_running() else Cancelled()
                client.set_flow_run_state(flow_run.id, new_state, force=True)
    # A worker being stopped may still write a file as the folder goes: until it is gone.
    for _ in range(CLEAR_UP_TRIES):
        shutil.rmtree(work_folder / run_id, ignore_errors=True)
        if not (work_folder / run_id).exists():
            return
        time.sleep(1)
