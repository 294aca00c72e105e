"""Connecting to the warehouse: opening it (set up, quiet, spilling to its own folder),
opening it read-only, and the lock that lets one run at a time write it."""

import fcntl
import itertools
import os
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from liver_audit.config import from_environment, private_mode
from liver_audit.errors import UnusableInput, WarehouseBusy, WarehouseOutdated
from liver_audit.warehouse.housekeeping import delivered_folder, kept_copies, repoint_raw_views
from liver_audit.warehouse.schema import (
    SCHEMA_VERSION,
    SQL_DIR,
    check_schema_version,
    load_reference_tables,
    sql,
    sql_literal,
)

# Warehouse files whose tables, reference data and views this process has already set up:
# the set-up need only happen once per process (a process may run several audits).
_SET_UP: set[str] = set()


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
    if str(path) != ":memory:":
        # DuckDB's own choice (<file>.tmp: one warehouse, one folder), made private before
        # DuckDB spills episode-level rows there; a process killed leaves its spill files
        # (clear_left_by_ended_processes removes them).
        temp = spill_folder(path)
        temp.mkdir(mode=private_mode(folder=True), exist_ok=True)
        with suppress(PermissionError):  # another user's: theirs to keep
            temp.chmod(private_mode(folder=True))  # made before by a DuckDB session (umask)
        # Connections in a process share the database (a run's session and its cursors); once
        # it has spilled, setting its temp directory again, even to the same, raises.
        if con.execute("select current_setting('temp_directory')").fetchall()[0][0] != str(temp):
            con.execute("set temp_directory = ?", [str(temp)])
    session_settings(con, memory_limit)
    key = None if str(path) == ":memory:" else str(Path(path).resolve())
    if key is None or key not in _SET_UP:
        con.execute(sql("warehouse"))
        check_schema_version(con, path)
        # A run reloads them at its start (with its synonym table); here only if missing.
        # (assessment_settings is written last; the others are missing from a warehouse an
        # older version last ran)
        if (
            con.execute(
                "select count(*) from duckdb_tables() where table_name in "
                "('assessment_settings', 'verdict_kinds', 'icd10_codes', 'hes_diagnosis_sentinels', "
                "'liver_indications', 'special_arrangements_guidance')"
            ).fetchall()[0][0]
            < 6
        ):
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
    return con


def session_settings(con: duckdb.DuckDBPyConnection, memory_limit: str | None = None) -> None:
    """What every connection to the warehouse is set up with: quiet, memory bounded, rows
    kept in insertion order, and the macros (temporary: each connection's own)."""
    quiet(con)
    limit = memory_limit or from_environment("LIVER_AUDIT_MEMORY_LIMIT")[0]
    con.execute(f"set memory_limit = '{limit}'")
    # A staging input's rowid numbers its rows in file order (source_row): DuckDB's default,
    # for the whole database, so never switched off while loads may run side by side.
    con.execute("set preserve_insertion_order = true")
    con.execute(sql("macros"))


def quiet(con: duckdb.DuckDBPyConnection) -> None:
    """No progress bar: DuckDB draws one on stdout for any query over 2 s, into the run's
    piped or scheduled output and into `liver-audit sql --csv` exports."""
    con.execute("set enable_progress_bar = false")


def spill_folder(path: str | Path) -> Path:
    """Where DuckDB spills what outgrows its memory limit: <warehouse file>.tmp/."""
    return Path(f"{path}.tmp")


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
        kept = kept_copies(delivered_folder(con))
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
def warehouse(path: str | Path, memory_limit: str | None = None):
    """A connection to the warehouse file, closed afterwards: a run's session."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = connect(path, memory_limit)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def cursor(con: duckdb.DuckDBPyConnection):
    """A cursor of the session `con` for one task, closed afterwards: DuckDB's way for
    threads, a connection of its own to the same database, with temporary tables of its own
    and the session's settings; quiet, with the macros (temporary: per connection)."""
    task_con = con.cursor()
    try:
        quiet(task_con)
        task_con.execute(sql("macros"))
        yield task_con
    finally:
        task_con.close()


@contextmanager
def run_lock(path: str | Path, wait_seconds: float = 0):
    """One run at a time per warehouse, for the whole run: an exclusive lock on
    <warehouse>.lock (the OS releases it if the process dies, even by SIGKILL). DuckDB's own
    lock refuses another process at once: this one can be waited for (`wait_seconds`), and
    readers (history, sql, export) hold it shared (open_read_only): the run waits for them
    too."""
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
