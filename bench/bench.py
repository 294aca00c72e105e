"""Benchmark liver-audit against a DuckDB floor on synthetic HES APC extracts."""

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import psutil
from generate_extract import generate

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
RESULTS = RESULTS_DIR / "latest.json"
DEFAULT_COMMAND = (
    f"{shlex.quote(str(REPO_DIR / '.venv' / 'bin' / 'liver-audit'))} run {{extract}}"
    " --theatre {theatre} --warehouse {warehouse} --out {out}"
)
SUBPROCESS_ENV = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}
POLL_SECONDS = 0.1
# From this size on, --repeat-large applies instead of --repeat: one run at 21M takes minutes.
LARGE_ROWS = 10_000_000
# Stage columns in the order a run goes through them; others found in run_stages follow.
STAGE_ORDER = ("plan", "read", "stage", "validate", "load", "assess", "summarise", "write")


def tree_rss(process: psutil.Process) -> int:
    """Return the summed RSS in bytes of a process and all its descendants."""
    try:
        processes = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for member in processes:
        try:
            total += member.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass  # exited between listing and sampling
    return total


def measure(argv: list[str], log_path: Path, rows: int) -> dict:
    """Run argv to completion; return wall time, peak process-tree RSS and throughput."""
    result = {"command": shlex.join(argv)}
    with log_path.open("w") as log:
        started = time.perf_counter()
        try:
            process = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **SUBPROCESS_ENV}
            )
        except OSError as error:
            return {**result, "error": str(error)}
        tree = psutil.Process(process.pid)
        peak = 0
        while True:
            peak = max(peak, tree_rss(tree))
            try:
                process.wait(timeout=POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                pass
        wall = time.perf_counter() - started
    result.update(
        exit_code=process.returncode,
        wall_seconds=round(wall, 2),
        peak_rss_mb=round(peak / 2**20, 1),
        rows_per_second=round(rows / wall),
    )
    if process.returncode != 0:
        result["error"] = f"exit code {process.returncode}"
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        print(f"  {argv[0]} failed; last lines of {log_path}:", *tail, sep="\n    ")
    return result


def stage_seconds(warehouse: Path) -> dict[str, float] | None:
    """Seconds per stage of the warehouse's latest run, summed over files; None if the
    warehouse or its run_stages table is missing (a --command that does not write one)."""
    if not warehouse.is_file():
        return None
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as error:  # not a DuckDB file, or still held by a process
        print(f"  no stage timings: {error}")
        return None
    with con:
        try:
            # Run ids sort by start time; the warehouse is fresh, so there is one run anyway.
            rows = con.execute(
                """
                select stage, sum(seconds)
                from run_stages
                where run_id = (select max(run_id) from run_stages)
                group by stage
                order by min(started_at)
                """
            ).fetchall()
        except duckdb.CatalogException:
            return None
    return {stage: round(seconds or 0.0, 2) for stage, seconds in rows}


def add_stages(run: dict, warehouse: Path) -> dict:
    """Add our run's stage seconds and the wall time they leave unaccounted (Prefect
    start-up, imports, anything outside the timed stages)."""
    stages = stage_seconds(warehouse)
    if stages is not None and "wall_seconds" in run:
        run["stages"] = stages
        run["unaccounted_seconds"] = round(run["wall_seconds"] - sum(stages.values()), 2)
    return run


def median_run(runs: list[dict]) -> dict:
    """The run with the median wall time (and its stages), with every wall time and stage
    breakdown in run order and the highest peak memory."""
    if any("error" in run for run in runs):
        return next(run for run in runs if "error" in run)
    ordered = sorted(runs, key=lambda run: run["wall_seconds"])
    median = dict(ordered[len(ordered) // 2])
    median["all_wall_seconds"] = [run["wall_seconds"] for run in runs]
    if any("stages" in run for run in runs):
        median["all_stages"] = [run.get("stages") for run in runs]
    median["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    return median


def bench_size(rows: int, fmt: str, workdir: Path, command: str, seed: int, repeat: int) -> dict:
    """Generate one extract (CSV or Parquet), then time the floor and our command on it."""
    run_dir = workdir / f"rows-{rows}-{fmt}"
    shutil.rmtree(run_dir, ignore_errors=True)
    (run_dir / "ours").mkdir(parents=True)
    extract, theatre = run_dir / f"extract.{fmt}", run_dir / "theatre.csv"
    print(f"generating {rows:,} rows as {fmt} in {run_dir} ...", flush=True)
    generated = generate(rows, extract, fmt, seed, theatre)
    generated["extract_mb"] = round(extract.stat().st_size / 2**20, 1)

    floor_argv = [
        sys.executable,
        str(BENCH_DIR / "floor.py"),
        str(extract),
        str(run_dir / "floor.duckdb"),
    ]
    paths = {
        "extract": extract,
        "theatre": theatre,
        "warehouse": run_dir / "ours" / "wh.duckdb",
        "out": run_dir / "ours" / "out",
    }
    ours_argv = shlex.split(command.format(**{k: shlex.quote(str(v)) for k, v in paths.items()}))
    # Floor and ours alternate, each from a fresh database, so both see the same machine
    # state; the median of the repeats is reported (this VM's speed varies by ~10%).
    floors, ours_runs = [], []
    for attempt in range(1, repeat + 1):
        print(f"  floor ({attempt}/{repeat}) ...", flush=True)
        (run_dir / "floor.duckdb").unlink(missing_ok=True)
        floors.append(measure(floor_argv, run_dir / "floor.log", rows))
        print(f"  ours ({attempt}/{repeat}) ...", flush=True)
        shutil.rmtree(run_dir / "ours", ignore_errors=True)
        (run_dir / "ours").mkdir()
        ours_run = measure(ours_argv, run_dir / "ours.log", rows)
        ours_runs.append(add_stages(ours_run, paths["warehouse"]))
    floor, ours = median_run(floors), median_run(ours_runs)
    if "error" not in floor:
        floor["outcomes"] = json.loads((run_dir / "floor.log").read_text())["outcomes"]

    ratio = None
    if "error" not in floor and "error" not in ours:
        ratio = {
            "wall": round(ours["wall_seconds"] / floor["wall_seconds"], 2),
            "peak_rss": round(ours["peak_rss_mb"] / floor["peak_rss_mb"], 2),
        }
    return {
        "rows": rows,
        "format": fmt,
        "generated": generated,
        "floor": floor,
        "ours": ours,
        "ours_over_floor": ratio,
    }


def print_table(runs: list[dict]) -> None:
    """Print one line per size and run, plus the ours/floor ratio."""
    header = f"{'rows':>10} {'format':<8}{'run':<6}{'wall s':>9}{'peak MB':>10}{'rows/s':>12}  note"
    print("\n" + header + "\n" + "-" * len(header))
    for run in runs:
        rows = f"{run['rows']:>10,} {run['format']:<8}"
        for name in ("floor", "ours"):
            measured = run[name]
            note = measured.get("error", "")
            if "wall_seconds" in measured:
                print(
                    f"{rows}{name:<6}{measured['wall_seconds']:>9.2f}"
                    f"{measured['peak_rss_mb']:>10.1f}{measured['rows_per_second']:>12,}  {note}"
                )
            else:
                print(f"{rows}{name:<6}{'-':>9}{'-':>10}{'-':>12}  {note}")
        if ratio := run["ours_over_floor"]:
            print(f"{rows}{'ratio':<6}{ratio['wall']:>8.2f}x{ratio['peak_rss']:>9.2f}x")


def print_stage_table(runs: list[dict]) -> None:
    """Print one line per size and format: our median run's seconds by stage, the seconds
    left unaccounted, our wall and the floor's wall."""
    found = {stage for run in runs for stage in run["ours"].get("stages", {})}
    columns = [s for s in STAGE_ORDER if s in found] + sorted(found - set(STAGE_ORDER))
    header = f"{'rows':>10} {'format':<8}" + "".join(f"{c:>10}" for c in columns)
    header += f"{'unacc.':>10}{'ours':>10}{'floor':>10}"
    print("\nseconds by stage (ours, median run)\n" + header + "\n" + "-" * len(header))
    for run in runs:
        ours, floor = run["ours"], run["floor"]
        stages = ours.get("stages", {})
        cells = [stages.get(c) for c in columns]
        cells += [ours.get("unaccounted_seconds"), ours.get("wall_seconds")]
        cells.append(floor.get("wall_seconds"))
        print(
            f"{run['rows']:>10,} {run['format']:<8}"
            + "".join(f"{'-':>10}" if c is None else f"{c:>10.2f}" for c in cells)
        )


def machine() -> dict:
    """What the figures were measured on."""
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def write_results(path: Path, header: dict, runs: list[dict]) -> None:
    """Write the machine and command header with these runs as JSON."""
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"created": created, **header, "runs": runs}, indent=2) + "\n")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--rows",
        type=int,
        action="append",
        help="extract size; repeat for several (default 1000000)",
    )
    parser.add_argument(
        "--workdir", type=Path, help="where extracts and outputs go (default: a temp dir)"
    )
    parser.add_argument("--keep", action="store_true", help="keep extracts, databases and logs")
    parser.add_argument(
        "--command",
        default=DEFAULT_COMMAND,
        help="our command; placeholders {extract} {theatre} {warehouse} {out}",
    )
    parser.add_argument(
        "--format",
        choices=["csv", "parquet"],
        action="append",
        help="extract format; repeat for both (default csv)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each command per size; the median is reported (default 3)",
    )
    parser.add_argument(
        "--repeat-large",
        type=int,
        default=1,
        help=f"runs per size instead of --repeat from {LARGE_ROWS:,} rows on (default 1)",
    )
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="liver-audit-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    header = {
        "machine": machine(),
        "command": args.command,
        "poll_seconds": POLL_SECONDS,
    }
    runs = []
    for rows in args.rows or [1_000_000]:
        repeat = args.repeat_large if rows >= LARGE_ROWS else args.repeat
        for fmt in args.format or ["csv"]:
            runs.append(bench_size(rows, fmt, workdir, args.command, args.seed, repeat))
            # Written at once, so an interrupted run keeps what it measured.
            write_results(RESULTS_DIR / f"rows-{rows}-{fmt}.json", header, runs[-1:])
            if not args.keep:
                shutil.rmtree(workdir / f"rows-{rows}-{fmt}")
    if not args.keep and args.workdir is None:
        workdir.rmdir()

    print_table(runs)
    print_stage_table(runs)
    write_results(RESULTS, header, runs)
    kept = f"; files kept in {workdir}" if args.keep else ""
    print(f"\nresults written to {RESULTS} and {RESULTS_DIR}/rows-*-*.json{kept}")


if __name__ == "__main__":
    main()
