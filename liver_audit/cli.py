"""The liver-audit command. Exit codes: 0 run completed (findings are results, not errors),
2 unusable input or arguments (one-line message), 1 anything else."""

import argparse
import atexit
import logging
import os
import sys
from pathlib import Path

from liver_audit import __version__
from liver_audit.errors import UnusableInput, WarehouseBusy, WarehouseOutdated
from liver_audit.prefect_server import TemporaryServer

# Prefect on locked-down machines: no telemetry, a patient start-up on 2 cores, quiet logs
# (../shared/docs/prefect-here.md). Set before prefect is imported; the user's env wins.
PREFECT_DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"liver-audit: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="liver-audit",
        description="Audit OPCS-4 approach coding of liver resections (NICE IPG135) "
        "in HES APC episode extracts.",
    )
    parser.add_argument("--version", action="version", version=f"liver-audit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="load extracts into the warehouse, assess them and write the audit files",
        description="Run the audit flow once: load episode extracts (and a theatre file) into "
        "the warehouse, quarantine rows that fail validation, assess every J02.3/J02.4 "
        "procedure and write assessments.csv, quarantine.csv, summary.json and report.html.",
    )
    run.add_argument(
        "extracts",
        nargs="+",
        metavar="EXTRACT",
        help="HES APC episode extract: pipe, comma or tab delimited text, or Parquet",
    )
    run.add_argument(
        "--theatre",
        metavar="FILE",
        help="theatre records (EPIKEY, OPDATE, APPROACH): the documented approach",
    )
    run.add_argument(
        "--warehouse",
        metavar="PATH",
        default="data/warehouse.duckdb",
        help="DuckDB warehouse file (default: %(default)s)",
    )
    run.add_argument(
        "--out", metavar="DIR", help="folder for the audit files (default: reports/<run id>/)"
    )
    run.add_argument("--verbose", action="store_true",
                     help="show Prefect's run logs (counts and file names only)")  # fmt: skip

    history = commands.add_parser(
        "history",
        help="list recent runs recorded in the warehouse",
        description="List the most recent runs recorded in the warehouse: when, status, "
        "rows read/loaded/quarantined, procedures assessed, the compliance rate and seconds "
        "taken; with --run, that run's timed stages.",
    )
    history.add_argument(
        "--warehouse",
        metavar="PATH",
        default="data/warehouse.duckdb",
        help="DuckDB warehouse file (default: %(default)s)",
    )
    history.add_argument("--limit", type=int, default=20, help="runs to show (default: 20)")
    history.add_argument(
        "--run", metavar="RUN_ID", help="show one run's timed stages instead (per file and stage)"
    )

    commands.add_parser(
        "rules",
        help="list the rule catalogue",
        description="List the rules in data/rules/catalogue.toml with their standards and outcomes.",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "rules":
        return show_rules()
    try:
        if args.command == "history":
            return show_history(Path(args.warehouse), args.limit, args.run)
        return run(args)
    except UnusableInput as error:
        print(f"liver-audit: {error}", file=sys.stderr)
        return 2
    except (WarehouseBusy, WarehouseOutdated) as error:
        print(f"liver-audit: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("liver-audit: interrupted", file=sys.stderr)
        return 1
    except Exception as error:  # a one-line message, never a traceback (it may quote data)
        print(f"liver-audit: run failed: {type(error).__name__}: {safe_message(error)}",
              file=sys.stderr)  # fmt: skip
        return 1


def safe_message(error: Exception) -> str:
    from liver_audit.errors import ReconciliationError, StageFailed

    if isinstance(error, (ReconciliationError, StageFailed)):
        return str(error)
    return "see the Prefect run log"


def run(args: argparse.Namespace) -> int:
    extracts = [Path(p) for p in args.extracts]
    for path in [*extracts, *([Path(args.theatre)] if args.theatre else [])]:
        if not path.is_file():
            raise UnusableInput(f"{path}: no such file")
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise UnusableInput(f"{args.out}: --out must be a folder")

    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    if args.verbose:
        os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        # Boots while we check the inputs and import; Prefect reads the URL at import.
        server = TemporaryServer().start()
        os.environ["PREFECT_API_URL"] = server.api_url
        # Stopped at exit, after Prefect's own exit handlers have sent the last logs and
        # events (they register later, so run first); stopping it sooner makes them retry.
        atexit.register(server.stop)
    check_inputs(extracts, Path(args.theatre) if args.theatre else None)
    check_warehouse(Path(args.warehouse))
    from flows.audit import audit_run

    if not args.verbose:
        silence_prefect_console()
    timeout = float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"])
    if server and not server.wait_until_healthy(timeout):
        raise RuntimeError(f"Prefect's temporary server did not start within {timeout:.0f} s")
    summary = audit_run(
        extracts=[str(p) for p in extracts],
        theatre=args.theatre,
        warehouse_path=args.warehouse,
        out_dir=args.out,
    )
    print_summary(summary, args.warehouse)
    return 0


def check_inputs(extracts: list[Path], theatre: Path | None) -> None:
    """Refuse unusable files before the flow starts: a quick, clear answer."""
    import duckdb

    from liver_audit.extracts import start_hashing
    from liver_audit.load import inspect_file

    paths = [*extracts, *([theatre] if theatre else [])]
    with duckdb.connect() as con:
        for path in paths:
            inspect_file(con, path, "theatre_records" if path == theatre else "episode_extract")
    for path in paths:
        start_hashing(path)  # in the background, while Prefect's server boots


def check_warehouse(path: Path) -> None:
    """Fail fast, in one line, if another run holds the warehouse (DuckDB has one writer)."""
    import duckdb

    from liver_audit.warehouse import warehouse

    try:
        with warehouse(path):
            pass
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise WarehouseBusy(f"{path}: the warehouse is in use by another process") from None
        raise


def silence_prefect_console() -> None:
    """Prefect prints failed runs with tracebacks; the CLI prints one line instead. The run
    log still reaches the Prefect API."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for logger in [logging.getLogger(), *map(logging.getLogger, logging.root.manager.loggerDict)]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, PrefectConsoleHandler):
                handler.setLevel(logging.CRITICAL + 1)


def print_summary(summary: dict, warehouse_path: str) -> None:
    out = Path(summary["out_dir"])
    print(f"liver-audit run {summary['run_id']} completed")
    print(f"  rows: {summary['rows_read']} read, {summary['rows_loaded']} loaded, "
          f"{summary['rows_quarantined']} quarantined")  # fmt: skip
    print(f"  procedures assessed: {summary['procedures_assessed']}")
    for outcome, count in summary["outcomes"].items():
        print(f"    {outcome:<28}{count:>8}")
    print(f"  warehouse: {Path(warehouse_path).resolve()}")
    print(f"  audit files: {out.resolve()}/")
    for name in (
        "report.html", "worklist.xlsx", "assessments.csv", "quarantine.csv",
        "summary.json", "summary_shareable.csv",
    ):  # fmt: skip
        print(f"    {name}")


def show_history(path: Path, limit: int, run_id: str | None = None) -> int:
    """Recent runs, newest first (run_history, as the report's trend uses it), or one run's
    timed stages: counts only."""
    import duckdb

    from liver_audit.outputs import recent_runs
    from liver_audit.warehouse import sql

    if not path.is_file():
        raise UnusableInput(f"{path}: no warehouse here yet")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException:
        raise WarehouseBusy(f"{path}: the warehouse is in use by another process") from None
    with con:
        try:
            if run_id:
                table = con.sql(sql("reports/run_stages"), params={"run_id": run_id}).pl()
                if not table.height:
                    raise UnusableInput(f"{path}: no stages recorded for run {run_id}")
            else:
                table = recent_runs(con, limit)
        except duckdb.CatalogException:
            raise WarehouseOutdated(
                f"{path}: written by an older liver-audit; run an audit on it to update it"
            ) from None
    print_table(table)
    if not table.height:
        print("(no runs yet)")
    return 0


def print_table(table) -> None:
    """A plain text table: text left-aligned, numbers right-aligned, nulls blank."""
    cells = [["" if v is None else str(v) for v in row] for row in table.iter_rows()]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(table.columns)]
    numeric = [table[c].dtype.is_numeric() for c in table.columns]
    for line in [table.columns, *cells]:
        print(
            "  ".join(
                v.rjust(w) if n else v.ljust(w) for v, w, n in zip(line, widths, numeric)
            ).rstrip()
        )


def show_rules() -> int:
    from liver_audit.catalogue import load_catalogue

    catalogue = load_catalogue()
    print(f"rule catalogue {catalogue.version}")
    for rule in catalogue.rules:
        print(f"\n{rule['id']} ({rule['severity']})\n  {rule['description']}")
        print(f"  standard: {rule['standard']}\n  source: {rule['source_url']}")
        expected = ", ".join(f"{k} -> {v}" for k, v in rule["expected_approach_codes"].items())
        print(f"  expected approach codes: {expected}")
    print("\noutcomes:")
    for outcome in catalogue.outcomes:
        print(f"  {outcome['outcome']:<28}{outcome['severity']:<9}{outcome['description']}")
    return 0


def quiet_interpreter_teardown() -> None:
    """After every other exit handler (Prefect stops its temporary server in one), send
    stderr to /dev/null: at teardown DuckDB's bindings print a wall of harmless nanobind
    "leaked instance" lines when Prefect has run (prefect-here.md, pitfall 12)."""
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)


def entry_point() -> None:
    # Registered before Prefect is imported, so it runs after Prefect's own exit handlers.
    atexit.register(quiet_interpreter_teardown)
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
