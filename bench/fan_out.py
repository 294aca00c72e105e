"""Fan-out against one machine: the same monthly extracts loaded by `liver-audit run` alone and
fanned out (`--work-pool`) to Prefect process workers started here on 127.0.0.1, both against
the same local Prefect server. Prints wall time, peak memory (the run's process tree, and the
workers' trees), seconds by stage, and checks that both warehouses hold the same rows."""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import duckdb
import psutil
from generate_extract import generate, monthly_extracts

from bench import BENCH_DIR, REPO_DIR, SUBPROCESS_ENV, add_stages, measure, tree_rss

POOL = "liver-audit-bench"
LIVER_AUDIT = str(REPO_DIR / ".venv" / "bin" / "liver-audit")
COUNTS = ["episodes", "procedures", "theatre_records", "quarantine", "assessments"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def background(argv: list[str], log: Path, env: dict) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                                cwd=REPO_DIR, start_new_session=True)  # fmt: skip


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def wait_until(what: str, check, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            sys.exit(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.5)


def api(url: str, body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)
    except OSError:
        return None


class PeakRss:
    """The highest summed RSS of some process trees, polled in a thread while measuring."""

    def __init__(self, processes: list[subprocess.Popen]):
        self.trees = [psutil.Process(p.pid) for p in processes]
        self.peak, self.running = 0, False

    def __enter__(self):
        self.peak, self.running = 0, True
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()
        return self

    def _poll(self):
        while self.running:
            self.peak = max(self.peak, sum(tree_rss(tree) for tree in self.trees))
            time.sleep(0.1)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


def counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: con.sql(f"select count(*) from {t}").fetchall()[0][0] for t in COUNTS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=3_000_000, help="rows in the year, in all")
    parser.add_argument("--months", type=int, default=12, help="monthly files (default 12)")
    parser.add_argument("--workers", type=int, default=2, help="process workers (default 2)")
    parser.add_argument("--workdir", type=Path, help="where files go (default: a temp dir)")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="liver-audit-fan-out-"))
    shutil.rmtree(workdir, ignore_errors=True)
    (workdir / "work").mkdir(parents=True)

    year, theatre = workdir / "year.csv", workdir / "theatre.csv"
    print(f"generating {args.rows:,} rows in {args.months} monthly files in {workdir} ...")
    generate(args.rows, year, "csv", 1, theatre)
    # April first: a financial year
    months = monthly_extracts(year, workdir, [(n + 3) % 12 + 1 for n in range(args.months)])

    url = f"http://127.0.0.1:{free_port()}/api"
    env = os.environ | SUBPROCESS_ENV | {"PREFECT_API_URL": url,
                                         "PREFECT_HOME": str(workdir / "prefect-home")}  # fmt: skip
    os.environ.update(env)  # measure() passes os.environ on
    port = url.split(":")[-1].split("/")[0]
    server = background([sys.executable, "-m", "prefect", "server", "start", "--host",
                         "127.0.0.1", "--port", port], workdir / "server.log", env)  # fmt: skip
    workers = []
    try:
        wait_until("the Prefect server", lambda: api(f"{url}/health") is True)
        for number in range(args.workers):
            name = f"worker-{number + 1}"
            workers.append(background(
                [sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL, "--type",
                 "process", "--name", name, "--limit", "1"],
                workdir / f"{name}.log",
                env | {"LIVER_AUDIT_WORKER": name, "PREFECT_WORKER_QUERY_SECONDS": "1"},
            ))  # fmt: skip
        wait_until(
            "the workers",
            lambda: len(
                [w for w in api(f"{url}/work_pools/{POOL}/workers/filter", {}) or []
                 if w["status"] == "ONLINE"]
            ) == args.workers,
        )  # fmt: skip
        results = {}
        for name, extra in (
            ("alone", []),
            ("fanned_out", ["--work-pool", POOL, "--work-folder", str(workdir / "work")]),
        ):
            warehouse = workdir / f"{name}.duckdb"
            argv = [LIVER_AUDIT, "run", *months, "--theatre", str(theatre), "--warehouse",
                    str(warehouse), "--out", str(workdir / name), *extra]  # fmt: skip
            print(f"  {name} ...", flush=True)
            with PeakRss(workers) as peak_workers:
                run = measure(argv, workdir / f"{name}.log", args.rows)
            run = add_stages(run, warehouse)
            run["workers_peak_rss_mb"] = round(peak_workers.peak / 2**20, 1)
            run["counts"] = counts(warehouse)
            results[name] = run
    finally:
        for process in [*workers, server]:
            stop(process)

    alone, fanned = results["alone"], results["fanned_out"]
    print(f"\n{args.rows:,} rows in {args.months} files, {args.workers} workers on this machine")
    print(f"{'run':<12}{'wall s':>8}{'run MB':>9}{'workers MB':>12}  seconds by stage")
    for name, run in results.items():
        stages = " ".join(f"{k} {v:.1f}" for k, v in run.get("stages", {}).items())
        print(f"{name:<12}{run['wall_seconds']:>8.1f}{run['peak_rss_mb']:>9.0f}"
              f"{run['workers_peak_rss_mb']:>12.0f}  {stages}")  # fmt: skip
    print(f"fanned out / alone: {fanned['wall_seconds'] / alone['wall_seconds']:.2f}x")
    same = alone["counts"] == fanned["counts"]
    print(f"same rows in both warehouses: {same} {alone['counts']}")
    out = BENCH_DIR / "results" / "fan-out.json"
    out.write_text(json.dumps({"rows": args.rows, "months": args.months,
                               "workers": args.workers, **results}, indent=2) + "\n")  # fmt: skip
    print(f"results written to {out}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
