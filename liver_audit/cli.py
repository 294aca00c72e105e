"""The liver-audit command. Exit codes: 0 run completed (findings are results, not errors),
2 unusable input or arguments (one-line message), 1 anything else."""

import argparse
import atexit
import logging
import os
import sys
from contextlib import suppress
from pathlib import Path

from liver_audit import __version__
from liver_audit.config import (
    BY_NAME,
    CONFIG_FILE,
    ENVIRONMENT,
    SETTINGS,
    Settings,
    add_setting_flags,
    from_environment,
    load_settings,
    private_mode,
    share_files,
)
from liver_audit.errors import (
    UnusableInput,
    WarehouseBusy,
    WarehouseOutdated,
    failure_reason,
    one_line,
)
from liver_audit.prefect_server import TemporaryServer

# Prefect on locked-down machines: no telemetry, a patient start-up on 2 cores, quiet logs
# (../shared/docs/prefect-here.md). Set before prefect is imported; the user's env wins.
PREFECT_DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    # ...but the run's own log (stage timings and counts) reaches the Prefect UI: the flow
    # and task run loggers at INFO, to the API; the console keeps to warnings. Overrides of
    # prefect/logging/logging.yml, environment only: the Makefile exports them too.
    "PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL": "INFO",
    "PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL": "INFO",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",
}


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(2, f"liver-audit: error: {one_line(message)}\n")


# What the report and worklist cover, and the compliant sample they put to the auditors.
REPORT_SETTINGS = ["since", "provider", "financial_year", "compliant_sample", "sample_seed"]
RUN_SETTINGS = [
    "warehouse", "inbox", "reports", "move_processed", "synonyms", "parquet", "wait_for_warehouse",
    "work_pool", "work_folder", "share_with_group", "rules", "opcs_version_date", "code_check_scope",
    "layout", *REPORT_SETTINGS,
]  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="liver-audit",
        description="Audit the OPCS-4 coding of liver procedures in HES APC episode extracts "
        "against a catalogue of rules, each citing its standard (NICE, NCCS 2026).",
    )
    parser.add_argument("--version", action="version", version=f"liver-audit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, description: str, settings: list[str]):
        sub = commands.add_parser(name, help=help, description=description)
        sub.add_argument("--config", metavar="PATH",
                         help=f"settings file (default: ./{CONFIG_FILE} if there)")  # fmt: skip
        add_setting_flags(sub, settings)
        return sub

    run = command(
        "run",
        "load new extracts into the warehouse, assess them and write the audit files",
        "Run the audit once: load the named files, or every new file in the inbox, into the "
        "warehouse (a file whose content was loaded before is skipped), quarantine rows that "
        "fail validation, assess every liver procedure against the rule catalogue and write "
        "the audit files.",
        RUN_SETTINGS,
    )
    run.add_argument("extracts", nargs="*", metavar="EXTRACT",
                     help="HES APC episode extract: pipe, comma or tab delimited text, or Parquet")  # fmt: skip
    run.add_argument("--theatre", metavar="FILE",
                     help="theatre records (EPIKEY, OPDATE, APPROACH): the documented approach")  # fmt: skip
    run.add_argument("--out", metavar="DIR",
                     help="folder for this run's audit files (default: REPORTS/<run id>/)")  # fmt: skip
    run.add_argument("--reload", action="store_true",
                     help="load files even if their content was loaded before")  # fmt: skip
    run.add_argument("--verbose", action="store_true",
                     help="show Prefect's run logs (counts and file names only, no tracebacks)")  # fmt: skip

    history = command(
        "history",
        "list recent runs recorded in the warehouse",
        "List the most recent runs recorded in the warehouse: when, status, rows "
        "read/loaded/quarantined, procedures assessed, each rule's compliance and seconds taken; "
        "with --run, that run's timed stages.",
        ["warehouse"],
    )
    history.add_argument("--limit", type=int, default=20, help="runs to show (default: 20)")
    history.add_argument("--run", metavar="RUN_ID",
                         help="show one run's timed stages instead (per file and stage)")  # fmt: skip

    command(
        "config",
        "print the effective settings and where each comes from",
        f"Print the settings a run would use: defaults, then {CONFIG_FILE} (or --config), then "
        "flags.",
        [s.name for s in SETTINGS],
    )

    command(
        "serve",
        "serve the nightly audit of the inbox on a Prefect server, on its schedule",
        "Register the nightly deployment (the audit of the inbox, with these settings) on the "
        "Prefect server at PREFECT_API_URL (default http://127.0.0.1:4200/api) and serve it: "
        "runs start on the schedule, or by hand from the Prefect UI or CLI. Stop with Ctrl-C.",
        [s.name for s in SETTINGS],
    )

    command(
        "export",
        "write the warehouse as Hive-partitioned Parquet for Spark, Trino or DuckDB",
        "Write the stable views episodes, procedures and assessments as Parquet folders "
        "partitioned by financial year and provider (DIR/<view>/financial_year=2025-26/"
        "provider=RXA/*.parquet), replacing each view's folder whole.",
        ["warehouse", "parquet", "share_with_group"],
    )

    sql = command(
        "sql",
        "run a read-only SQL query on the warehouse, or open a SQL prompt",
        "Run a read-only query against the warehouse and print the result (the stable views "
        "episodes, procedures, assessments, quarantine, runs and files come first on the search "
        "path; see the README). With no query, open an interactive prompt.",
        ["warehouse"],
    )
    sql.add_argument("query", nargs="?", help="the query; omit it for a prompt")
    export = sql.add_mutually_exclusive_group()
    export.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    export.add_argument("--json", action="store_true", help="print JSON lines instead")
    sql.add_argument("--max-rows", type=int, default=50,
                     help="rows a printed table shows (default: 50; CSV and JSON print all)")  # fmt: skip

    review = command(
        "review",
        "read auditors' verdicts from a returned worklist into the warehouse",
        "Read the verdict and comment of every finding a returned worklist.xlsx carries (by "
        "its hidden finding key) into the warehouse's verdicts table. A row with an edited "
        "key, a key of a finding no longer current, or a verdict not in the list is named in "
        "one line (sheet and row) and the valid rows still load; the same file twice changes "
        "nothing; the file is kept beside the warehouse's deliveries.",
        ["warehouse", "wait_for_warehouse", "share_with_group"],
    )
    review.add_argument("worklist", metavar="WORKLIST", help="the returned worklist.xlsx")
    review.add_argument("--reviewer", metavar="NAME",
                        help="who gave the verdicts (default: the workbook's last author)")  # fmt: skip

    report = command(
        "report",
        "write the report and worklist of where the trust stands, without a run",
        "Write report.html, worklist.xlsx and summary_shareable.csv of the warehouse's standing "
        "position as of its latest run (what that run changed included), narrowed by --since, "
        "--provider or --financial-year, into --out. Reads the warehouse only.",
        ["warehouse", "share_with_group", *REPORT_SETTINGS],
    )
    report.add_argument("--out", metavar="DIR", required=True,
                        help="folder for the report's files (made if missing)")  # fmt: skip

    rules = command(
        "rules",
        "list the rule catalogue",
        "List the rules (one folder each in the rules folder) with what each checks, the "
        "standards it enforces, its outcomes and its cases.",
        ["rules"],
    )
    rules.add_argument("--cases", action="store_true", help="list each rule's cases too")

    command(
        "layouts",
        "list the layouts episode extracts are read by",
        "List the layouts: how an episode extract names the warehouse's fields. The shipped "
        f"ones (data/layouts/) and a trust's own ([layouts.NAME] in {CONFIG_FILE}); a file is "
        "read by the one whose columns it has, or the one --layout names.",
        ["layout"],
    )

    inspect = command(
        "inspect",
        "say which layout a file fits and what a run would load from it, without loading",
        "Read a file's header (and count its rows): its format, whether it is an episode "
        "extract or theatre records, the layout it fits and the column each field is read "
        "from, the procedure and diagnosis positions it has. Writes nothing; prints no value.",
        ["layout"],
    )
    inspect.add_argument("file", metavar="FILE", help="an episode extract or theatre file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        flags = {name: getattr(args, name, None) for name in BY_NAME}
        settings = load_settings(flags, args.config)
        share_files(settings.share_with_group)  # before any file is written, by anyone
        if args.command in ("run", "serve", "export"):
            restrict_warehouse_files(settings.warehouse)
        if args.command == "history":
            return show_history(settings.warehouse, args.limit, args.run)
        if args.command == "config":
            return show_config(settings)
        if args.command == "rules":
            return show_rules(settings.rules, args.cases)
        if args.command == "layouts":
            return show_layouts(settings)
        if args.command == "inspect":
            return inspect_input(settings, Path(args.file))
        if args.command == "review":
            return read_verdicts(settings, Path(args.worklist), args.reviewer)
        if args.command == "report":
            return write_report(settings, Path(args.out))
        if args.command == "sql":
            from liver_audit.analyst_sql import run_sql

            return run_sql(settings.warehouse, args.query, args.csv, args.json, args.max_rows)
        if args.command == "serve":
            return serve(settings)
        if args.command == "export":
            return export(settings)
        return run(args, settings)
    except UnusableInput as error:
        if getattr(error, "summary", None):  # refused files: the rest of the run went ahead
            print_summary(error.summary, settings, status="failed")
        print(f"liver-audit: {one_line(str(error))}", file=sys.stderr)
        return 2
    except (WarehouseBusy, WarehouseOutdated) as error:
        print(f"liver-audit: {one_line(str(error))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("liver-audit: interrupted", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `liver-audit history | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:  # a one-line message, never a traceback (it may quote data)
        print(f"liver-audit: run failed: {failure_reason(error)}", file=sys.stderr)
        return 1


def restrict_warehouse_files(warehouse: Path) -> None:
    """The warehouse's files as share_with_group says, also those made before it did (by an
    older version, with the umask's mode): the warehouse, its WAL and lock, its spill folder,
    its kept copies. Another user's are theirs to change."""
    folders = [Path(f"{warehouse}.tmp"), Path(f"{warehouse}.delivered")]
    files = [warehouse, Path(f"{warehouse}.wal"), Path(f"{warehouse}.lock")]
    with suppress(OSError):
        files += [path for path in folders[1].iterdir() if path.is_file()]
    for path in [*folders, *files]:
        with suppress(OSError):  # not there, or not ours
            path.chmod(private_mode(folder=path in folders))


def set_up_prefect(verbose: bool = False) -> TemporaryServer | None:
    """Prefect's environment, and a temporary server unless PREFECT_API_URL names one."""
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)
    if verbose:
        os.environ["PREFECT_LOGGING_LEVEL"] = "INFO"
        os.environ["PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"] = "NOTSET"
    if os.environ.get("PREFECT_API_URL"):
        return None
    # Boots while we check the inputs and import; Prefect reads the URL at import.
    server = TemporaryServer().start()
    os.environ["PREFECT_API_URL"] = server.api_url
    # Stopped at exit, after Prefect's own exit handlers have sent the last logs and
    # events (they register later, so run first); stopping it sooner makes them retry.
    atexit.register(server.stop)
    return server


def run(args: argparse.Namespace, settings: Settings) -> int:
    extracts = [Path(p) for p in args.extracts]
    theatre = Path(args.theatre) if args.theatre else None
    if not extracts and not theatre and settings.inbox is None:
        raise UnusableInput("nothing to load: name extract files, or an --inbox folder")
    for path in [*extracts, *([theatre] if theatre else [])]:
        if path.is_dir():
            raise UnusableInput(f"{path}: is a folder, not a file (a folder of files: --inbox)")
        if not path.is_file():
            raise UnusableInput(f"{path}: no such file")
    if settings.inbox is not None:
        from liver_audit.inbox import check_inbox

        check_inbox(settings.inbox)
    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise UnusableInput(f"{args.out}: --out must be a folder")
    check_fan_out(settings)

    server = set_up_prefect(args.verbose)
    if server is None:  # PREFECT_API_URL names the server: refused now, not as RuntimeError
        check_prefect_server()
    check_inputs(extracts, theatre, settings)
    from flows.audit import audit_run

    prefect_console(args.verbose)
    timeout = float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"])
    if server and not server.wait_until_healthy(timeout):
        raise RuntimeError(f"Prefect's temporary server did not start within {timeout:.0f} s")
    summary = audit_run(
        settings,
        extracts=[str(p) for p in extracts],
        theatre=args.theatre,
        out_dir=args.out,
        reload=args.reload,
    )
    print_summary(summary, settings)
    return 0


def check_fan_out(settings: Settings) -> None:
    """Fan-out needs a work folder that exists and a Prefect server the workers also use (a
    run's temporary server is out of their reach)."""
    if not settings.work_pool:
        return
    if settings.work_folder is None:
        raise UnusableInput("work_pool needs a work_folder that the run and every worker share")
    if not settings.work_folder.is_dir():
        raise UnusableInput(f"{settings.work_folder}: no such work folder")
    if not os.environ.get("PREFECT_API_URL"):
        raise UnusableInput(
            "work_pool needs the Prefect server its workers use: set PREFECT_API_URL"
        )


def check_prefect_server() -> None:
    """The server PREFECT_API_URL names answers; if not, one line (Prefect would fail the
    flow with a RuntimeError before it starts). A run refused here, like one refused for its
    arguments, never touched the warehouse, and is not in its history."""
    url = os.environ["PREFECT_API_URL"]
    if not TemporaryServer.is_healthy(url):
        raise UnusableInput(
            f"no Prefect server answers at {url}: start one (make server) or set PREFECT_API_URL"
        )


def check_inputs(extracts: list[Path], theatre: Path | None, settings: Settings) -> None:
    """Refuse unusable files before the flow starts: a quick, clear answer."""
    import duckdb

    from liver_audit.extracts import start_hashing
    from liver_audit.inbox import check_file_name
    from liver_audit.layouts import layouts_of
    from liver_audit.load import inspect_file

    paths = [*extracts, *([theatre] if theatre else [])]
    layouts = layouts_of(settings)
    with duckdb.connect() as con:
        for path in paths:
            check_file_name(path)
            kind = "theatre_records" if path == theatre else "episode_extract"
            inspect_file(con, path, kind, layouts, settings.layout)
    for path in paths:
        start_hashing(path)  # in the background, while Prefect's server boots


def prefect_console(verbose: bool) -> None:
    """Prefect prints failed runs with tracebacks; the CLI prints one line instead. With
    --verbose, Prefect's log (stages, counts, states) without tracebacks, a message a line:
    a traceback can quote row values (a frame's source line, a chained error's message).
    The run log still reaches the Prefect API."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for logger in [logging.getLogger(), *map(logging.getLogger, logging.root.manager.loggerDict)]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, PrefectConsoleHandler):
                if verbose:
                    handler.setFormatter(WithoutTracebacks(handler.formatter))
                else:
                    handler.setLevel(logging.CRITICAL + 1)


class WithoutTracebacks(logging.Formatter):
    """Formats a copy of each record, one line and without its exception or stack (other
    handlers, such as Prefect's API log, get the record as it was)."""

    def __init__(self, formatter: logging.Formatter | None):
        super().__init__()
        self.formatter = formatter or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        # Prefect also writes a traceback into a message: "...: Error('...')\nTraceback ..."
        message = record.getMessage().split("\nTraceback (most recent call last)")[0]
        bare = {"msg": one_line(message), "args": None, "exc_info": None, "exc_text": None,
                "stack_info": None}  # fmt: skip
        return self.formatter.format(logging.makeLogRecord(record.__dict__ | bare))


def print_summary(summary: dict, settings: Settings, status: str = "completed") -> None:
    """What the run did, a line per fact; file names escaped (one_line), as in every message."""
    from liver_audit.report import code_checks_note

    say(f"liver-audit run {summary['run_id']} {status}")
    for skipped in summary["files_skipped"]:
        say(f"  skipped {skipped['file_name']}: {skipped['reason']}")
    for refused in summary["files_refused"]:
        say(f"  refused {refused['file_name']}")
    for returned in summary.get("worklists_returned", []):
        say(f"  returned worklist {returned['file_name']}: "
            + (f"refused ({returned['refused']})" if returned["refused"] else
               f"{returned['verdicts']} verdict(s) read, {returned['rows_refused']} row(s) refused"))  # fmt: skip
    if summary["out_dir"] is None:
        say(
            "  nothing new: no file or verdict to read, so no audit files were written; the "
            f"latest report shows the position: {(settings.reports / 'index.html').resolve()}"
        )
        say(f"  warehouse: {settings.warehouse.resolve()}")
        return
    say(f"  rows: {summary['rows_read']} read, {summary['rows_loaded']} loaded "
        f"({summary['rows_unchanged']} unchanged), {summary['rows_quarantined']} quarantined")  # fmt: skip
    say(f"  procedures assessed: {summary['procedures_assessed']}")
    if note := code_checks_note(summary):
        say(f"  {note}")
    for rule in summary["rules"]:
        percent = "n/a" if rule["percent_compliant"] is None else f"{rule['percent_compliant']}%"
        say(f"  {rule['rule_id']}: {rule['findings']} findings in this run, {percent} compliant")
        for outcome in rule["outcomes"]:
            if outcome["findings"]:
                say(f"    {outcome['outcome']:<36}{outcome['findings']:>8}")
    say(f"  warehouse: {settings.warehouse.resolve()}")
    say(f"  audit files: {Path(summary['out_dir']).resolve()}/")
    for name in (
        "report.html", "worklist.xlsx", "assessments.csv", "quarantine.csv",
        "summary.json", "summary_shareable.csv",
    ):  # fmt: skip
        say(f"    {name}")


def say(text: str = "") -> None:
    """print(), with control characters escaped: a file name's newline cannot split a line."""
    print(one_line(text))


def read_verdicts(settings: Settings, worklist: Path, reviewer: str | None) -> int:
    """`liver-audit review`: the returned worklist's verdicts into the warehouse, under the
    run lock (no run writes meanwhile). Exit 2 when a row was refused (the rest loaded)."""
    from liver_audit.review import review
    from liver_audit.warehouse import run_lock, warehouse

    if not worklist.is_file():
        raise UnusableInput(f"{worklist}: no such file")
    restrict_warehouse_files(settings.warehouse)
    with run_lock(settings.warehouse, settings.wait_for_warehouse):
        with warehouse(settings.warehouse) as con:
            result = review(con, worklist, reviewer)
    if result is None:
        say(f"{worklist.name}: read before (the same content): nothing changed")
        return 0
    loaded, refused = result
    for line in refused:
        print(f"liver-audit: {one_line(line)}", file=sys.stderr)
    say(f"{worklist.name}: {loaded} verdict(s) read, {len(refused)} row(s) refused")
    return 2 if refused else 0


def write_report(settings: Settings, out: Path) -> int:
    """`liver-audit report`: the position's report, worklist and shareable summary, as of
    the warehouse's latest reported run, from the warehouse opened read-only."""
    from liver_audit.outputs import write_position
    from liver_audit.warehouse import open_read_only

    if out.exists() and not out.is_dir():
        raise UnusableInput(f"{out}: --out must be a folder")
    with open_read_only(settings.warehouse) as con:
        run_id = write_position(con, settings, out)
    say(f"the position as of run {run_id}: {out.resolve()}/")
    for name in ("report.html", "worklist.xlsx", "summary_shareable.csv"):
        say(f"    {name}")
    return 0


def export(settings: Settings) -> int:
    """Write the Parquet export of a warehouse no run is writing."""
    from liver_audit.export import export_parquet
    from liver_audit.warehouse import open_read_only, sql

    if settings.parquet is None:
        raise UnusableInput("export needs a folder: --parquet DIR (or parquet in liver-audit.toml)")
    with open_read_only(settings.warehouse) as con:
        con.execute(sql("macros"))
        written = export_parquet(con, settings.parquet)
    for table, rows in written.items():
        say(f"{table}: {rows:,} rows -> {settings.parquet / table}/")
    return 0


def show_config(settings: Settings) -> int:
    """The effective settings as TOML a user can paste into liver-audit.toml, each with the
    place its value came from."""
    for name, value in settings.as_dict().items():
        if value is None:
            line = f"# {name} = (not set)"
        elif isinstance(value, bool):
            line = f"{name} = {str(value).lower()}"
        elif isinstance(value, int):
            line = f"{name} = {value}"
        else:
            line = f'{name} = "{value}"'
        say(f"{line:<60} # {settings.sources[name]}")
    say("# Environment variables (not settings of the file):")
    for knob in ENVIRONMENT:
        value, source = from_environment(knob.variable)
        if value is None:
            shown = "(not set)"
        elif knob.kind in (int, float):
            shown = f"{value:g}" if knob.kind is float else str(value)
        else:
            shown = f'"{value}"'
        say(f"{'# ' + knob.variable + ' = ' + shown:<60} # {source}")
    return 0


def serve(settings: Settings) -> int:
    """Serve the nightly deployment on the Prefect server at PREFECT_API_URL until stopped."""
    os.environ.setdefault("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    set_up_prefect()
    if settings.inbox is None:
        raise UnusableInput("serve needs an inbox: set inbox in liver-audit.toml or --inbox")
    from liver_audit.inbox import check_inbox

    check_inbox(settings.inbox)
    check_fan_out(settings)
    check_prefect_server()
    from flows.nightly import serve_nightly
    from liver_audit.config import check_schedule

    check_schedule(settings)
    serve_nightly(settings)
    return 0


def show_history(path: Path, limit: int, run_id: str | None = None) -> int:
    """Recent runs, newest first (run_history, as the report's trend uses it), then how
    often each rule is right (rule_precision); or one run's timed stages: counts only."""
    from liver_audit.outputs import recent_runs
    from liver_audit.terminal import print_table
    from liver_audit.warehouse import open_read_only, sql

    with open_read_only(path) as con:
        if run_id:
            table = con.sql(sql("reports/run_stages"), params={"run_id": run_id}).pl()
            if not table.height:
                raise UnusableInput(f"{path}: no stages recorded for run {run_id}")
        else:
            table = recent_runs(con, limit)
            precision = con.sql(sql("reports/rule_precision_shown")).pl()
    print_table(one_line_columns(table))
    if not table.height:
        print("(no runs yet)")
    elif not run_id:
        say()
        say("How often each rule is right, from the auditors' verdicts (rule_precision):")
        print_table(one_line_columns(precision))
    return 0


def one_line_columns(table):
    """The table's text columns with control characters escaped (file names, errors)."""
    import polars as pl

    from liver_audit.errors import UNPRINTABLE_TEXT

    escapes = [one_line(character) for character in UNPRINTABLE_TEXT]
    return table.with_columns(pl.col(pl.String).str.replace_many(UNPRINTABLE_TEXT, escapes))


def show_rules(folder: Path, cases: bool = False) -> int:
    """The rules of the rules folder: what each checks, its standards, outcomes (and cases)."""
    from liver_audit.catalogue import load_catalogue

    catalogue = load_catalogue(folder)
    say(f"rule catalogue {catalogue.version} ({catalogue.folder})")
    for rule in catalogue.rules:
        say()
        say(f"{rule.id}: {rule.title}")
        say(f"  {rule.checks}")
        say(f"  OPCS-4 versions: {', '.join(rule.opcs_versions)}")
        for standard in rule.standards:
            where = ", ".join(
                str(part)
                for part in (
                    standard.get("section"),
                    standard.get("page") and f"p.{standard['page']}",
                    standard.get("url"),
                )
                if part
            )
            say(
                f"  standard {standard['id']}: {standard['document']}"
                + (f"; {where}" if where else "")
            )
        say("  outcomes:")
        for outcome in rule.outcomes:
            action = "needs action" if outcome.needs_action else ""
            say(f"    {outcome.outcome:<36}{outcome.severity:<9}{action:<14}{outcome.description}")
        if cases:
            say(f"  cases ({len(rule.cases)}, {rule.folder / 'cases.md'}):")
            for case in rule.cases:
                say(
                    f"    {case['codes']:<28} theatre {case['theatre']:<26} {case['date']:<11} -> {case['outcomes']}  ({case['standard']})"
                )
        else:
            say(f"  cases: {len(rule.cases)} (--cases to list)")
    return 0


def show_layouts(settings: Settings) -> int:
    """The layouts a run knows: each field's column, the numbered columns, the dates."""
    from liver_audit.layouts import layouts_of, shown

    for number, layout in enumerate(layouts_of(settings).values()):
        if number:
            say()
        chosen = " (chosen: --layout)" if layout.name == settings.layout else ""
        say(f"{layout.name}: {layout.title}{chosen}")
        say(f"  defined in {layout.defined_in}; names from: {layout.source}")
        say(f"  dates {layout.dates}")
        if layout.shape == "long":
            singular = {"episodes": "episode", "procedures": "procedure", "diagnoses": "diagnosis"}
            for table in [t for t in singular if t in layout.tables]:
                say(f"  {table} file (one row per {singular[table]}):")
                for field, column in long_columns(layout, table).items():
                    say(f"    {field:<20}{column}")
            continue
        if layout.provider:
            say(f"  {'provider_code':<22}every episode: {layout.provider}")
        for field, column in layout.columns.items():
            say(f"  {field:<22}{column}")
        for field in ("procedure_codes", "procedure_dates", "diagnosis_codes"):
            ways = " or ".join(shown(way) for way in getattr(layout, field)) or "(none)"
            say(f"  {field:<22}{ways}")
    return 0


def long_columns(layout, table: str, written: dict | None = None) -> dict[str, str]:
    """A long layout's table: each field and the column(s) it is read from (as `written`,
    the file's header, has them, if given)."""
    shown = {}
    for field, value in layout.tables[table].items():
        if field == "first_position" or value is None:
            continue
        names = [value] if isinstance(value, str) else value
        shown[field] = " + ".join((written or {}).get(name, name) for name in names)
        if field == "position":
            shown[field] += f" (counted from {layout.tables[table]['first_position']})"
    if table == "episodes" and layout.provider:
        shown["provider_code"] = f"every episode: {layout.provider}"
    return shown


def inspect_input(settings: Settings, path: Path) -> int:
    """What a run would make of one file, read from its header and row count only."""
    import duckdb

    from liver_audit.extracts import detect_format, header_columns, looks_like_theatre
    from liver_audit.inbox import check_file_name
    from liver_audit.layouts import layouts_of
    from liver_audit.load import inspect_file

    if not path.is_file():
        raise UnusableInput(f"{path}: no such file")
    check_file_name(path)
    layouts = layouts_of(settings)
    with duckdb.connect() as con:
        file_format = detect_format(path)
        written = [name.strip() for name in header_columns(con, path, file_format, upper=False)]
        columns = [name.upper() for name in written]
        kind = "theatre_records" if looks_like_theatre(columns, layouts) else "episode_extract"
        _, layout, kind = inspect_file(con, path, kind, layouts, settings.layout)
        rows = data_rows(con, path, file_format)
    say(f"{path}: {file_format}, {len(columns)} columns, {rows:,} data rows")
    if layout is None:
        say("theatre records: EPIKEY, OPDATE, APPROACH (load with --theatre)")
        return 0
    as_written = dict(zip(columns, written, strict=True))  # as the file's header writes them
    if layout.shape == "long":
        table = layout.table_of(columns)
        say(f"{table} file ({kind}) of layout {layout.name}: {layout.title}")
        say(f"  dates read as {layout.dates}")
        for field, column in long_columns(layout, table, as_written).items():
            say(f"  {field:<22}{column}")
        read = set(layout.required_columns(table))
        say(f"  not read: {len([c for c in columns if c not in read])} columns (kept as delivered)")
        say("  loads with the layout's other files, given in the same run")
        return 0
    say(f"episode extract, layout {layout.name}: {layout.title}")
    say(f"  dates read as {layout.dates}")
    if layout.provider:
        say(f"  {'provider_code':<22}every episode: {layout.provider}")
    for field, column in layout.columns.items():
        say(f"  {field:<22}{as_written[column]}")
    numbered = {
        "procedure_codes": layout.procedure_columns(columns),
        "procedure_dates": layout.date_columns(columns),
        "diagnosis_codes": layout.diagnosis_columns(columns),
    }
    for field, found in numbered.items():
        found = {position: as_written[column] for position, column in found.items()}
        shown = f"{len(found)} positions, {positions_range(found)}" if found else "none"
        say(f"  {field:<22}{shown}")
    read = {*layout.columns.values(), *(c for found in numbered.values() for c in found.values())}
    say(f"  not read: {len([c for c in columns if c not in read])} columns (kept as delivered)")
    return 0


def positions_range(found: dict[int, str]) -> str:
    """Positions 1-24 (OPERTN_4_01 ... OPERTN_4_24), or each one where they have gaps."""
    numbers = sorted(found)
    span = (
        f"{numbers[0]}-{numbers[-1]}"
        if numbers == list(range(numbers[0], numbers[-1] + 1))
        else ", ".join(map(str, numbers))
    )
    return (
        f"{span} ({found[numbers[0]]} ... {found[numbers[-1]]})"
        if len(numbers) > 1
        else f"{span} ({found[numbers[0]]})"
    )


def data_rows(con, path: Path, file_format: str) -> int:
    """The file's data rows: a Parquet file's metadata, a text file's non-blank lines after
    the header (as a run counts them, before it reads them)."""
    from liver_audit.extracts import compression
    from liver_audit.warehouse import sql

    if file_format == "parquet":
        query = "select coalesce(sum(num_rows), 0) from parquet_file_metadata($path)"
        return con.execute(query, {"path": str(path)}).fetchall()[0][0]
    params = {"path": str(path), "compression": compression(path)}
    return con.execute(sql("text_data_lines"), params).fetchall()[0][0]


def entry_point() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
