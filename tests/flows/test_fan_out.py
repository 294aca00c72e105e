"""Fan-out beyond one machine, here on 127.0.0.1: a real Prefect server, a process work pool
with two workers, and `liver-audit run --work-pool` handing each file to whichever worker is
free. The warehouse, the exit code and the audit files come out as a one-machine run of the
same files leaves them; both workers took files; nothing is left in the shared work folder."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import psutil
import pytest

from bench.generate_extract import generate, monthly_extracts
from tests.conftest import REPO, SAMPLE
from tests.processes import api, start, stop, wait_for
from tests.tables import episode_extract

pytestmark = pytest.mark.slow

POOL = "liver-audit-test"
WORKERS = ("worker-a", "worker-b")
# What the warehouse holds, without the ids of the runs that brought it (files get their
# ids in delivery order either way, so source files and rows must match too).
CONTENT = {
    "episodes": "select * from episodes",
    "procedures": "select * from procedures",
    "theatre_records": "select * from theatre_records",
    "assessments": "select * exclude (run_id) from assessments",
    "quarantine": "select * from quarantine",
    "input_files": "select * exclude (run_id) from input_files",
    "ledger": "select file_name, sha256, file_kind, action, file_id, reason from ledger",
}


@pytest.fixture
def inputs(tmp_path) -> list[str]:
    """The sample extract (rows for every quarantine reason), three months of a synthetic
    extract at HES width, a file with a quote never closed (refused), and theatre records."""
    shared = tmp_path / "deliveries"
    shared.mkdir()
    year = tmp_path / "year.csv"
    generate(9_000, year, "csv", seed=11, theatre_out=shared / "theatre.csv")
    months = monthly_extracts(year, shared, [4, 5, 6])
    broken = episode_extract(
        shared / "broken.txt",
        [{"EPIKEY": "000000000001"}, {"EPIKEY": "000000000002", "PROCODE3": '"RXA'}]
        + [{"EPIKEY": f"{n:012d}"} for n in range(3, 30)],
    )
    shutil.copy(SAMPLE / "episodes.csv", shared / "episodes.csv")
    return [str(shared / "episodes.csv"), *months, str(broken), "--theatre",
            str(shared / "theatre.csv")]  # fmt: skip


def liver_audit(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "liver_audit.cli", *args], capture_output=True, text=True,
        cwd=REPO, env=env, timeout=600,
    )  # fmt: skip


def workers_online(url: str, names: list[str] = list(WORKERS)) -> bool:
    workers = api(f"{url}/work_pools/{POOL}/workers/filter", {}) or []
    return sorted(w["name"] for w in workers if w["status"] == "ONLINE") == names


def read(warehouse: Path, query: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(query).fetchall()


def start_worker(name: str, prefect_env: dict, tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    """A process worker of the pool, one file at a time, beating every 2 s (the server takes
    it for offline 6 s after its last beat). The workers share one temporary folder, as
    on one machine."""
    log = tmp_path / f"{name}.log"
    command = [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL,
               "--type", "process", "--name", name, "--limit", "1"]  # fmt: skip
    machine_tmp(tmp_path).mkdir(exist_ok=True)
    env = prefect_env | {"LIVER_AUDIT_WORKER": name, "PREFECT_WORKER_QUERY_SECONDS": "1",
                         "PREFECT_WORKER_HEARTBEAT_SECONDS": "2",
                         "TMPDIR": str(machine_tmp(tmp_path))}  # fmt: skip
    return start(command, env, log), log


def machine_tmp(tmp_path: Path) -> Path:
    return tmp_path / "machine-tmp"


def scratch_left(tmp_path: Path) -> list[Path]:
    """The workers' scratch folders left in the machine's temporary folder."""
    return list(machine_tmp(tmp_path).glob("liver-audit-scratch-*"))


def kill_machine(worker: subprocess.Popen) -> None:
    """The machine dies: the worker and the flow run it started, at once."""
    kill_flow_run(worker)
    worker.kill()


def kill_flow_run(worker: subprocess.Popen) -> None:
    """The process preparing the file dies (say, for memory); the worker lives on."""
    for process in psutil.Process(worker.pid).children(recursive=True):
        process.kill()


def preparing(work_folder: Path, worker: str) -> list[Path]:
    """The heartbeats of the files `worker` is preparing."""
    return [
        beat for beat in work_folder.glob("*/file-*/heartbeat")
        if beat.read_text().startswith(f"{worker} ")
    ]  # fmt: skip


def run_and_kill_mid_file(
    files: list[str], workers: list[str], kill, worker_timeout: int, prefect_env: dict,
    prefect_server, tmp_path: Path,
) -> tuple[subprocess.Popen, str]:  # fmt: skip
    """Start `workers`, fan `files` out to them into tmp_path/fanned.duckdb, and once
    worker-a is preparing a file, `kill` it (the worker's process); the finished run and
    what it wrote to stderr."""
    url = prefect_env["PREFECT_API_URL"]
    started = {name: start_worker(name, prefect_env, tmp_path) for name in workers}
    work_folder = tmp_path / "work"
    work_folder.mkdir()
    run = None
    try:
        wait_for("the workers online", lambda: workers_online(url, workers), 90, prefect_server,
                 *started.values())  # fmt: skip
        run = subprocess.Popen(
            [sys.executable, "-m", "liver_audit.cli", "run", *files, "--warehouse",
             str(tmp_path / "fanned.duckdb"), "--out", str(tmp_path / "fanned"),
             "--work-pool", POOL, "--work-folder", str(work_folder)],
            cwd=REPO, env=prefect_env | {"LIVER_AUDIT_WORKER_TIMEOUT": str(worker_timeout)},
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        wait_for("worker-a to start on a file", lambda: preparing(work_folder, "worker-a"), 120,
                 *started.values())  # fmt: skip
        kill(started["worker-a"][0])
        _, stderr = run.communicate(timeout=300)
    finally:
        for process, _ in started.values():
            stop(process)
        if run and run.poll() is None:
            run.kill()
    assert list(work_folder.iterdir()) == []  # however the run ended
    return run, stderr


def flow_run_states(url: str) -> list[str]:
    """The final states of the prepare flow runs, sorted."""
    flow_runs = api(f"{url}/flow_runs/filter", {"flow_runs": {"tags": {"all_": ["liver-audit"]}}})
    return sorted(run["state"]["type"] for run in flow_runs if run["name"].count("-file-"))


def test_two_workers_share_the_files_and_the_results_match_one_machine(
    prefect_env, prefect_server, inputs, tmp_path
):
    url = prefect_env["PREFECT_API_URL"]
    alone_env = {k: v for k, v in prefect_env.items() if k != "PREFECT_API_URL"}
    alone = liver_audit(
        ["run", *inputs, "--warehouse", str(tmp_path / "alone.duckdb"),
         "--out", str(tmp_path / "alone")],
        alone_env,
    )  # fmt: skip
    assert alone.returncode == 2, alone.stderr  # broken.txt is refused, the rest loads
    assert "broken.txt: row 2: a quote opened here is never closed" in alone.stderr

    workers = [start_worker(name, prefect_env, tmp_path) for name in WORKERS]
    work_folder = tmp_path / "work"
    work_folder.mkdir()
    try:
        wait_for("two workers online", lambda: workers_online(url), 90, prefect_server, *workers)
        fanned = liver_audit(
            ["run", *inputs, "--warehouse", str(tmp_path / "fanned.duckdb"),
             "--out", str(tmp_path / "fanned"), "--work-pool", POOL,
             "--work-folder", str(work_folder)],
            prefect_env,
        )  # fmt: skip
    finally:
        for process, _ in workers:
            stop(process)
    assert fanned.returncode == 2, fanned.stderr
    assert fanned.stderr == alone.stderr

    # The same warehouse, table by table, and the same audit files.
    for table, query in CONTENT.items():
        expected = read(tmp_path / "alone.duckdb", f"{query} order by all")
        assert read(tmp_path / "fanned.duckdb", f"{query} order by all") == expected, table
        assert expected or table == "theatre_records", table
    for name in ("assessments.csv", "quarantine.csv", "summary_shareable.csv"):
        assert (tmp_path / "fanned" / name).read_bytes() == (tmp_path / "alone" / name).read_bytes()

    # Each file was read, staged and validated by one of the two workers, and both worked.
    prepared_by = read(
        tmp_path / "fanned.duckdb",
        "select file_name, worker from run_stages where stage = 'read' order by file_name",
    )
    assert [name for name, _ in prepared_by] == [
        "broken.txt", "episodes.csv", "month-04.csv", "month-05.csv", "month-06.csv",
        "theatre.csv",
    ]  # fmt: skip
    assert {worker for _, worker in prepared_by} == set(WORKERS)
    # One-machine stages name no worker.
    assert read(tmp_path / "alone.duckdb", "select distinct worker from run_stages") == [(None,)]

    # The worker's flow runs ended as the files did; the work folder holds no rows after.
    assert flow_run_states(url) == ["COMPLETED"] * 5 + ["FAILED"]
    assert list(work_folder.iterdir()) == []
    assert scratch_left(tmp_path) == []


def test_fan_out_needs_the_workers_server_and_a_work_folder(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    extract = str(SAMPLE / "episodes.csv")
    no_folder = liver_audit(["run", extract, "--work-pool", POOL], env)
    assert no_folder.returncode == 2
    assert no_folder.stderr == (
        "liver-audit: work_pool needs a work_folder that the run and every worker share\n"
    )
    no_server = liver_audit(
        ["run", extract, "--work-pool", POOL, "--work-folder", str(tmp_path)], env
    )
    assert no_server.returncode == 2
    assert "set PREFECT_API_URL" in no_server.stderr


def test_a_file_whose_worker_dies_goes_to_another_worker(prefect_env, prefect_server, tmp_path):
    """A machine dies mid-file: its file goes back to the pool, the other worker prepares it,
    and the run ends as a one-machine run of the same files does."""
    year = tmp_path / "year.csv"
    generate(600_000, year, "csv", seed=7)
    months = monthly_extracts(year, tmp_path, [4, 5, 6])
    alone_env = {k: v for k, v in prefect_env.items() if k != "PREFECT_API_URL"}
    alone = liver_audit(["run", *months, "--warehouse", str(tmp_path / "alone.duckdb"),
                         "--out", str(tmp_path / "alone")], alone_env)  # fmt: skip
    assert alone.returncode == 0, alone.stderr

    run, stderr = run_and_kill_mid_file(
        months, list(WORKERS), kill_machine, 15, prefect_env, prefect_server, tmp_path
    )
    assert run.returncode == 0, stderr
    for table, query in CONTENT.items():
        expected = read(tmp_path / "alone.duckdb", f"{query} order by all")
        assert read(tmp_path / "fanned.duckdb", f"{query} order by all") == expected, table
    # the wait for worker-a's file failed once; worker-b prepared that file again
    waits = read(
        tmp_path / "fanned.duckdb",
        "select file_name, error from run_stages where stage = 'wait' and status = 'failed'",
    )
    assert [error for _, error in waits] == ["WorkerStopped"]
    prepared_by = read(
        tmp_path / "fanned.duckdb",
        f"select worker from run_stages where stage = 'read' and file_name = '{waits[0][0]}'",
    )
    assert prepared_by == [("worker-b",)]
    assert flow_run_states(prefect_env["PREFECT_API_URL"]) == ["COMPLETED"] * 3 + ["CRASHED"]
    # worker-a's scratch warehouse went when worker-b next prepared a file on the machine
    assert scratch_left(tmp_path) == []


def test_a_file_whose_flow_run_is_killed_is_prepared_again(prefect_env, prefect_server, tmp_path):
    """The worker lives but the process preparing the file is killed (say, for memory): the
    worker reports the flow run crashed, and the run hands the file to the pool again."""
    extract = tmp_path / "extract.csv"
    generate(400_000, extract, "csv", seed=5)
    run, stderr = run_and_kill_mid_file(
        [str(extract)], ["worker-a"], kill_flow_run, 60, prefect_env, prefect_server, tmp_path
    )
    assert run.returncode == 0, stderr
    assert read(tmp_path / "fanned.duckdb", "select count(*) from episodes") == [(400_000,)]
    assert read(
        tmp_path / "fanned.duckdb",
        "select status, error from run_stages where stage = 'wait' order by started_at",
    ) == [("failed", "WorkerStopped"), ("completed", None)]
    assert flow_run_states(prefect_env["PREFECT_API_URL"]) == ["COMPLETED", "CRASHED"]
    assert scratch_left(tmp_path) == []  # the killed process's, deleted by the next


def test_a_run_whose_only_worker_dies_fails_instead_of_hanging(
    prefect_env, prefect_server, tmp_path
):
    """A machine that dies leaves its flow run RUNNING for ever: the run notices the file's
    heartbeat has stopped, hands the file to the pool again, finds no worker online to take
    it and fails in one line, leaving nothing in the work folder."""
    extract = tmp_path / "extract.csv"
    generate(400_000, extract, "csv", seed=5)
    run, stderr = run_and_kill_mid_file(
        [str(extract)], ["worker-a"], kill_machine, 15, prefect_env, prefect_server, tmp_path
    )
    assert run.returncode == 1
    assert stderr.strip().splitlines()[-1] == (
        f"liver-audit: run failed: extract.csv: no worker of pool {POOL} is online to prepare "
        "it (for 15 s); the next run prepares it again"
    )
    # the first try, and the one nobody took
    assert flow_run_states(prefect_env["PREFECT_API_URL"]) == ["CANCELLED", "CRASHED"]
    # nothing prepared a file on the dead machine since: its scratch is still there
    assert len(scratch_left(tmp_path)) == 1
