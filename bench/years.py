"""Several national years in one run: memory must not grow with the number of files.

Generates --years synthetic extracts of --rows each (different seeds: different episodes, as
different years are), then runs `liver-audit run` on the first one, the first two, ... all of
them, each time into a fresh warehouse. Prints wall time, peak memory of the whole process
tree and seconds per year; writes bench/results/years-<format>.json."""

import argparse
import shutil
import tempfile
from pathlib import Path

from generate_extract import generate

from bench import REPO_DIR, RESULTS_DIR, add_stages, machine, measure, write_results

LIVER_AUDIT = str(REPO_DIR / ".venv" / "bin" / "liver-audit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=21_000_000, help="rows a year")
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--format", choices=["csv", "parquet"], default="parquet")
    parser.add_argument("--workdir", type=Path, help="default: a temporary folder, deleted")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="liver-audit-years-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        years = []
        for year in range(args.years):
            path = workdir / f"year-{year + 1}.{args.format}"
            print(f"generating {args.rows:,} rows as {path.name} ...", flush=True)
            generate(args.rows, path, args.format, seed=100 + year)
            years.append(str(path))
        runs = []
        for count in range(1, args.years + 1):
            out = workdir / f"run-{count}"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir()
            print(f"  liver-audit run on {count} year(s) ...", flush=True)
            argv = [LIVER_AUDIT, "run", *years[:count], "--warehouse", str(out / "wh.duckdb"),
                    "--out", str(out / "audit")]  # fmt: skip
            run = add_stages(measure(argv, out / "run.log", count * args.rows), out / "wh.duckdb")
            runs.append({"years": count, "rows": count * args.rows, **run})
            shutil.rmtree(out)  # its kept copies are as large as the extracts
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    print(f"\n{args.rows:,} rows a year, {args.format}")
    print(
        f"{'years':>5} {'rows':>12} {'wall s':>8} {'s/year':>7} {'peak GB':>8}  peak / one year's"
    )
    for run in runs:
        print(f"{run['years']:>5} {run['rows']:>12,} {run['wall_seconds']:>8.1f} "
              f"{run['wall_seconds'] / run['years']:>7.1f} {run['peak_rss_mb'] / 1024:>8.2f}  "
              f"{run['peak_rss_mb'] / runs[0]['peak_rss_mb']:.2f}x")  # fmt: skip
    header = {
        "machine": machine(),
        "rows_a_year": args.rows,
        "format": args.format,
    }
    results = RESULTS_DIR / f"years-{args.format}.json"
    write_results(results, header, runs)
    print(f"results written to {results}")


if __name__ == "__main__":
    main()
