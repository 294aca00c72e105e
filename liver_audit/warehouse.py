"""The DuckDB warehouse: connecting, the schema, reference tables and the SQL in sql/."""

import fcntl
import itertools
import json
import os
import re
import shutil
import time
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from liver_audit import ROOT
from liver_audit.catalogue import RULES_DIR, load_catalogue
from liver_audit.config import private_mode
from liver_audit.errors import UnusableInput, WarehouseBusy, WarehouseOutdated
from liver_audit.progress import StageRecord

SQL_DIR = ROOT / "sql"
# Bump when sql/warehouse.sql changes a table, with sql/migrations/<new version>.sql that
# brings a warehouse of the version before up to it (migrate); older ones are refused.
SCHEMA_VERSION = "3"
REFERENCE_DIR = ROOT / "data" / "reference"
# Warehouse files whose tables, reference data and views this process has already set up:
# a run opens the warehouse once per task, and the set-up need only happen once.
_SET_UP: set[str] = set()


def sql(name: str) -> str:
    """The text of sql/<name>.sql."""
    return (SQL_DIR / f"{name}.sql").read_text()


def connect(
    path: str | Path = ":memory:", memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, creating its tables and views, with memory bounded and spill on."""
    try:
        con = duckdb.connect(str(path))
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise WarehouseBusy(f"{path}: the warehouse is in use by another process") from None
        raise
    quiet(con)
    limit = memory_limit or os.environ.get("LIVER_AUDIT_MEMORY_LIMIT", "2GB")
    con.execute(f"set memory_limit = '{limit}'")
    # A staging input's rowid numbers its rows in file order (source_row): DuckDB's default,
    # for the whole database, so never switched off while loads may run side by side.
    con.execute("set preserve_insertion_order = true")
    if str(path) != ":memory:":
        # DuckDB's own choice (<file>.tmp: one warehouse, one folder), made private before
        # DuckDB spills episode-level rows there; a process killed leaves its spill files
        # (clear_left_by_ended_processes removes them).
        temp = spill_folder(path)
        temp.mkdir(mode=private_mode(folder=True), exist_ok=True)
        with suppress(PermissionError):  # another user's: theirs to keep
            temp.chmod(private_mode(folder=True))  # made before by a DuckDB session (umask)
        # Connections share the database (a run holds one open throughout); once it has
        # spilled, setting its temp directory again, even to the same, raises.
        if con.execute("select current_setting('temp_directory')").fetchall()[0][0] != str(temp):
            con.execute("set temp_directory = ?", [str(temp)])
    key = None if str(path) == ":memory:" else str(Path(path).resolve())
    if key is None or key not in _SET_UP:
        con.execute(sql("warehouse"))
        check_schema_version(con, path)
        # A run reloads them at its start (with its synonym table); here only if missing.
        if not con.execute(
            "select 1 from duckdb_tables() where table_name = 'assessment_settings'"
        ).fetchall():
            load_reference_tables(con)
        for view in sorted((SQL_DIR / "views").glob("*.sql")):
            con.execute(f"create or replace view {view.stem} as {view.read_text()}")
        # The stable views for analysts (README), in their own schema.
        con.execute("create schema if not exists audit")
        for view in sorted((SQL_DIR / "audit").glob("*.sql")):
            text = view.read_text()
            con.execute(f"create or replace view audit.{view.stem} as {text}")
            # its opening comment, for `.views` and duckdb_views()
            comment = " ".join(
                line.removeprefix("--").strip()
                for line in itertools.takewhile(
                    lambda line: line.startswith("--"), text.splitlines()
                )
            ).removeprefix("Stable view: ")
            con.execute(
                f"comment on view audit.{view.stem} is '{comment.replace(chr(39), chr(39) * 2)}'"
            )
        repoint_raw_views(con)
        if key:
            _SET_UP.add(key)
    con.execute(sql("macros"))  # temporary: per connection
    return con


def quiet(con: duckdb.DuckDBPyConnection) -> None:
    """No progress bar: DuckDB draws one on stdout for any query over 2 s, into the run's
    piped or scheduled output and into `liver-audit sql --csv` exports."""
    con.execute("set enable_progress_bar = false")


def spill_folder(path: str | Path) -> Path:
    """Where DuckDB spills what outgrows its memory limit: <warehouse file>.tmp/."""
    return Path(f"{path}.tmp")


# A DuckDB process's spill files: duckdb_temp_<process id>_... (DuckDB 2.0).
SPILL_FILE = r"duckdb_temp_(\d+)_.*"


def clear_left_by_ended_processes(folder: Path, pattern: str) -> int:
    """Delete the files and folders in `folder` whose whole names match `pattern` (its first
    group a process id) where that process has ended: a process killed (power, SIGKILL, out of
    memory) leaves its spill files or scratch database behind, episode-level rows that
    nothing else deletes. Those of live processes, and any other name, are left alone.
    Returns how many were deleted."""
    deleted = 0
    try:
        entries = list(folder.iterdir())
    except OSError:  # none yet, or not ours to read
        entries = []
    for entry in entries:
        owner = re.fullmatch(pattern, entry.name)
        if owner and not process_alive(int(owner.group(1))):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            deleted += 1
    return deleted


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def sql_literal(value: str | Path) -> str:
    """A SQL string literal, for where DuckDB takes no parameters (a view, a SET)."""
    return "'" + str(value).replace("'", "''") + "'"


def delivered_folder(con: duckdb.DuckDBPyConnection) -> Path | None:
    """Where the warehouse keeps a copy of each file it loaded: the folder named after its
    file, plus .delivered (data/warehouse.duckdb.delivered/), so that no two warehouse files
    share one. None for an in-memory warehouse."""
    path = database_file(con)
    return Path(f"{path}.delivered") if path else None


def database_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The warehouse file this connection has open; None in memory."""
    (path,) = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchall()[0]
    return Path(path).resolve() if path else None


def repoint_raw_views(con: duckdb.DuckDBPyConnection, temporary: bool = False) -> None:
    """A raw view names its kept file by absolute path: after the warehouse and its folder
    of delivered files were moved together, point the views at the folder's new place.
    `temporary`: for a read-only session, temporary views of the same names, which shadow
    them until the next run re-points them for good."""
    folder = delivered_folder(con)
    if folder is None:
        return
    views = con.execute(
        "select sql from duckdb_views() "
        "where starts_with(view_name, 'raw_') and not temporary and not internal"
    ).fetchall()
    for (text,) in views:
        kept = re.search(r"read_(?:csv|parquet)\('((?:[^']|'')*)'", text)
        old = Path(kept.group(1).replace("''", "'"))
        new = folder / old.name
        # A copy not found here (the warehouse moved without its folder), or not this
        # user's to read, leaves the view as it was: naming it would fail.
        if old.parent != folder and os.access(new, os.R_OK):
            text = text.replace(f"'{kept.group(1)}'", sql_literal(new), 1)
            create = "CREATE OR REPLACE TEMP VIEW" if temporary else "CREATE OR REPLACE VIEW"
            con.execute(text.replace("CREATE VIEW", create, 1))


def check_schema_version(con: duckdb.DuckDBPyConnection, path: str | Path) -> None:
    """Record the schema version in a new warehouse; migrate one written by an earlier
    release in place (sql/migrations/); refuse any other."""
    con.execute(
        "insert into warehouse_info values ('schema_version', ?) on conflict do nothing",
        [SCHEMA_VERSION],
    )
    (version,) = con.execute(
        "select value from warehouse_info where key = 'schema_version'"
    ).fetchall()[0]
    while (
        version != SCHEMA_VERSION and (SQL_DIR / "migrations" / f"{int(version) + 1}.sql").is_file()
    ):
        version = migrate(con, int(version) + 1)
    if version != SCHEMA_VERSION:
        con.close()
        raise WarehouseOutdated(
            f"{path}: warehouse schema version {version}, this liver-audit writes version "
            f"{SCHEMA_VERSION}: use a new --warehouse"
        )


def migrate(con: duckdb.DuckDBPyConnection, version: int) -> str:
    """Bring the warehouse to schema `version` with sql/migrations/<version>.sql, in one
    transaction: a migration killed part way leaves the warehouse as it was."""
    con.begin()
    try:
        con.execute(sql(f"migrations/{version}"))
        con.execute(
            "update warehouse_info set value = ? where key = 'schema_version'", [str(version)]
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return str(version)


def load_reference_tables(
    con: duckdb.DuckDBPyConnection,
    synonyms: Path | None = None,
    rules: Path | None = None,
    opcs_version_date: str = "procedure_date",
) -> None:
    """(Re)create the reference tables from data/: code titles, OPCS-4 versions, the approach
    synonym table (or the one `synonyms` names), and the rule catalogue of the rules folder
    (rule_catalogue, rule_codes, ...), with what the rules are run with (assessment_settings)."""
    catalogue = load_catalogue(rules or RULES_DIR)
    synonyms = Path(synonyms or REFERENCE_DIR / "approach_synonyms.csv")
    approaches = REFERENCE_DIR / "documented_approaches.csv"
    con.execute(
        "create or replace table documented_approach_names as "
        "select * from read_csv(?, header = true, all_varchar = true)",
        [str(approaches)],
    )
    known = {
        name for (name,) in con.execute("select approach from documented_approach_names").fetchall()
    }
    check_synonyms(con, synonyms, known)
    con.execute(
        "create or replace table opcs4_codes as "
        "select * from read_csv(?, header = true, all_varchar = true)",
        [str(REFERENCE_DIR / "opcs4_codes.csv")],
    )
    con.execute(
        "create or replace table opcs_versions as "
        "select version, rank::integer as rank, first_day::date as first_day, "
        "last_day::date as last_day from read_csv(?, header = true, all_varchar = true)",
        [str(REFERENCE_DIR / "opcs_versions.csv")],
    )
    con.execute(
        "create or replace table approach_synonyms as "
        "select lower(trim(synonym)) as synonym, approach "
        "from read_csv(?, header = true, all_varchar = true)",
        [str(synonyms)],
    )
    tables = catalogue.tables() | {
        "assessment_settings": pl.DataFrame(
            {
                "catalogue_version": [catalogue.version],
                "opcs_version_date": [opcs_version_date],
                "rules_folder": [str(catalogue.folder)],
            }
        )  # fmt: skip
    }
    for table, frame in tables.items():
        con.register("frame", frame)
        con.execute(f"create or replace table {table} as select * from frame")
        con.unregister("frame")


def check_synonyms(con: duckdb.DuckDBPyConnection, path: Path, approaches: set[str]) -> None:
    """The synonym table: columns synonym and approach; every approach one the rule knows;
    no synonym given twice. Raises UnusableInput naming the file, row and field."""
    if not path.is_file():
        raise UnusableInput(f"{path}: no such synonym table")
    try:
        rows = con.sql(
            "select * from read_csv(?, header = true, all_varchar = true)", params=[str(path)]
        ).pl()
    except duckdb.Error:
        raise UnusableInput(f"{path}: not a readable CSV file") from None
    missing = {"synonym", "approach"} - set(rows.columns)
    if missing:
        raise UnusableInput(
            f"{path}: row 0 (header): missing column(s) {', '.join(sorted(missing))}"
        )
    seen: set[str] = set()
    for row_number, (synonym, approach) in enumerate(rows.select("synonym", "approach").rows(), 1):
        if not synonym or not synonym.strip():
            raise UnusableInput(f"{path}: row {row_number}: field synonym is empty")
        if approach not in approaches:
            raise UnusableInput(
                f"{path}: row {row_number}: field approach must be one of {', '.join(sorted(approaches))}"
            )
        key = synonym.strip().lower()
        if key in seen:
            raise UnusableInput(f"{path}: row {row_number}: field synonym repeats an earlier row")
        seen.add(key)


def _kept_copies(folder: Path | None) -> list[str]:
    """The kept copies this user may read (none if the folder is another user's)."""
    try:
        return sorted(str(p) for p in folder.iterdir() if os.access(p, os.R_OK))
    except (AttributeError, OSError):  # no folder, or not ours
        return []


@contextmanager
def open_read_only(path: str | Path, external_access: bool = True):
    """The warehouse for reading only (history, sql, export), closed afterwards: refused in
    one line if missing, held by a run, or of another schema version. external_access=False:
    no other files. While open it holds <warehouse>.lock shared, so a run waits for it
    (run_lock) rather than failing on DuckDB's lock."""
    path = Path(path)
    if not path.is_file():
        raise UnusableInput(f"{path}: no warehouse here yet")
    busy = WarehouseBusy(f"{path}: the warehouse is in use by a run; try again when it ends")
    with reading(path) as held:
        if not held:
            raise busy
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.IOException:
            raise busy from None
        try:
            set_up_read_only(con, path, external_access)
            yield con
        finally:
            con.close()


def set_up_read_only(con: duckdb.DuckDBPyConnection, path: Path, external_access: bool) -> None:
    """Check the schema version, re-point the raw views for this session, close file access."""
    quiet(con)
    try:
        rows = con.execute(
            "select value from warehouse_info where key = 'schema_version'"
        ).fetchall()
    except duckdb.CatalogException:  # older than schema versions
        rows = []
    if rows != [(SCHEMA_VERSION,)]:
        found = rows[0][0] if rows else "none"
        raise WarehouseOutdated(
            f"{path}: warehouse schema version {found}, this liver-audit reads version "
            f"{SCHEMA_VERSION}: the next `liver-audit run` on it migrates it in place"
        )
    repoint_raw_views(con, temporary=True)
    if not external_access:
        # The kept copies stay readable (the raw_* views), and nothing else. DuckDB would
        # still let COPY write these and the warehouse file: analyst_sql runs queries only.
        kept = _kept_copies(delivered_folder(con))
        con.execute(f"set allowed_paths = [{', '.join(sql_literal(p) for p in kept)}]")
        con.execute("set enable_external_access = false")


@contextmanager
def reading(path: Path):
    """Hold <warehouse>.lock shared while reading: yields False if a run holds it. A
    warehouse no run has opened has no lock file, and none is made here (a reader writes
    nothing); the first run makes it."""
    try:
        descriptor = os.open(f"{path}.lock", os.O_RDONLY)
    except OSError:  # none yet, or not ours to read: DuckDB's own lock still guards
        descriptor = None
    try:
        if descriptor is not None:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        held = True
    except BlockingIOError:
        held = False
    try:
        yield held
    finally:
        if descriptor is not None:
            os.close(descriptor)  # closing releases the lock


@contextmanager
def warehouse(path: str | Path):
    """A connection to the warehouse file, closed afterwards."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = connect(path)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def run_lock(path: str | Path, wait_seconds: float = 0):
    """One run at a time per warehouse, for the whole run: an exclusive lock on
    <warehouse>.lock (the OS releases it if the process dies, even by SIGKILL). DuckDB's own
    lock only covers one connection, and a run opens several, one per task. Readers
    (history, sql, export) hold it shared (open_read_only): the run waits for them too."""
    lock_path = Path(f"{path}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, private_mode())  # group: its runs
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    waited = f" (waited {wait_seconds:g} s)" if wait_seconds else ""
                    raise WarehouseBusy(f"{path}: {holder(lock_path)}{waited}") from None
                time.sleep(0.2)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def holder(lock_path: Path) -> str:
    """Who holds the run lock, for the message of a run that gave up: readers share it, a
    run has it alone."""
    probe = os.open(lock_path, os.O_RDONLY)
    try:
        fcntl.flock(probe, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return "a liver-audit sql, history or export session has the warehouse open"
    except BlockingIOError:
        return "another liver-audit run is using the warehouse"
    finally:
        os.close(probe)


def recover_interrupted_runs(con: duckdb.DuckDBPyConnection) -> int:
    """Under the run lock no other run is alive: a run still marked running was killed.
    Mark it failed, and remove what only an unfinished load refers to (its transaction
    rolled back with it): raw views and tables, staging inputs, kept copies. Returns the
    runs marked."""
    interrupted = con.execute(
        "update runs set status = 'failed', "
        "error = 'interrupted: the process ended before the run finished' "
        "where status = 'running' returning run_id"
    ).fetchall()
    loaded = {table for (table,) in con.execute("select raw_table from input_files").fetchall()}
    orphans = con.execute(
        """
        select 'table', table_name from duckdb_tables()
        where (starts_with(table_name, 'raw_') or starts_with(table_name, 'stage_input_'))
            and not temporary
        union all
        select 'view', view_name from duckdb_views()
        where starts_with(view_name, 'raw_') and not temporary and not internal
        """
    ).fetchall()
    for kind, name in orphans:
        if name not in loaded:
            con.execute(f'drop {kind} "{name}"')
    folder = delivered_folder(con)
    if folder is not None and folder.is_dir():
        for kept in folder.iterdir():
            if kept.name.split(".")[0] not in loaded:
                kept.unlink()
    if database_file(con) is not None:  # a killed run's or sql session's spill files
        (spill,) = con.execute("select current_setting('temp_directory')").fetchall()[0]
        clear_left_by_ended_processes(Path(spill), SPILL_FILE)
    return len(interrupted)


def take_over_unreported_runs(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Earlier runs that loaded files but never wrote their audit files (failed, or killed
    once a load had committed; sql/runs_taken_over.sql) are reported by this run: their
    files join this run's audit files and their episodes are assessed again with this
    run's, so that a re-run writes what one uninterrupted run would have. Their counts and
    assessments go: this run's summary holds them. Returns how many runs."""
    con.begin()
    taken = con.execute(sql("runs_taken_over"), {"run": run_id}).fetchall()
    for table in ["assessments", "assessed_files", "run_outcomes"]:
        con.execute(
            f"delete from {table} where run_id in (select unnest($taken))",
            {"taken": [taken_run for (taken_run,) in taken]},
        )
    con.commit()
    return len(taken)


def record_audit_files(con: duckdb.DuckDBPyConnection, run_id: str, folder: Path) -> None:
    """The run's audit files are all written, in `folder`: nothing of it is left to report."""
    con.execute("update runs set audit_files = ? where run_id = ?", [str(folder), run_id])


def utc_now() -> datetime:
    """Now in UTC, as the naive timestamp the warehouse stores (its columns are UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def start_run(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Record the run as running, with its catalogue version."""
    con.execute(
        "insert into runs (run_id, started_at, status, catalogue_version) "
        "values (?, ?, 'running', ?)",
        [run_id, utc_now(), catalogue_version(con)],
    )


def catalogue_version(con: duckdb.DuckDBPyConnection) -> str:
    """The version of the catalogue the warehouse holds (load_reference_tables)."""
    return con.execute("select catalogue_version from assessment_settings").fetchall()[0][0]


def record_summary(con: duckdb.DuckDBPyConnection, summary: dict) -> None:
    """Record the run's counts and outcome counts (summary.json's figures: counts only)."""
    run_id = summary["run_id"]
    con.begin()
    con.execute(
        """
        update runs set rows_read = ?, rows_loaded = ?, rows_quarantined = ?,
            procedures_assessed = ?, summary = ?, catalogue_version = ?
        where run_id = ?
        """,
        [summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"],
         summary["procedures_assessed"], json.dumps(summary, default=str), summary["catalogue_version"],
         run_id],
    )  # fmt: skip
    con.execute("delete from run_outcomes where run_id = ?", [run_id])
    con.executemany(
        "insert into run_outcomes (run_id, rule_id, outcome, findings, severity, needs_action) "
        "values (?, ?, ?, ?, ?, ?)",
        [
            [
                run_id,
                rule["rule_id"],
                outcome["outcome"],
                outcome["findings"],
                outcome["severity"],
                outcome["needs_action"],
            ]
            for rule in summary["rules"]
            for outcome in rule["outcomes"]
        ],
    )
    con.commit()


def finish_run(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, error: str | None = None
) -> None:
    """Record how the run ended: completed or failed, and why it failed."""
    con.execute(
        "update runs set finished_at = ?, status = ?, error = ? where run_id = ?",
        [utc_now(), status, error, run_id],
    )


def record_stages(con: duckdb.DuckDBPyConnection, run_id: str, records: list[StageRecord]) -> None:
    """Record a task's timed stages in run_stages."""
    if not records:
        return
    con.executemany(
        "insert into run_stages by name select ? as run_id, ? as stage, ? as file_name, "
        "? as started_at, ? as seconds, ? as rows, ? as status, ? as error, ? as worker",
        [
            [run_id, r.stage, r.file_name, r.started_at.astimezone(UTC).replace(tzinfo=None),
             r.seconds, r.rows, r.status, r.error, r.worker]
            for r in records
        ],
    )  # fmt: skip
