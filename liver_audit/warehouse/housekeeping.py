"""Housekeeping: what killed processes leave behind, the kept copies of delivered files and
the raw views that read them."""

import os
import re
import shutil
from pathlib import Path

import duckdb

from liver_audit.warehouse.schema import sql_literal

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


def kept_copies(folder: Path | None) -> list[str]:
    """The kept copies this user may read (none if the folder is another user's)."""
    try:
        return sorted(str(p) for p in folder.iterdir() if os.access(p, os.R_OK))
    except (AttributeError, OSError):  # no folder, or not ours
        return []
