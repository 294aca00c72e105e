"""The DuckDB warehouse: connecting, the schema, reference tables and the SQL in sql/."""

import json
import os
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from liver_audit import ROOT
from liver_audit.catalogue import load_catalogue
from liver_audit.errors import WarehouseOutdated
from liver_audit.progress import StageRecord

SQL_DIR = ROOT / "sql"
# Bump when sql/warehouse.sql changes a table: older warehouses are then refused, clearly.
SCHEMA_VERSION = "1"
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
    con = duckdb.connect(str(path))
    limit = memory_limit or os.environ.get("LIVER_AUDIT_MEMORY_LIMIT", "2GB")
    con.execute(f"set memory_limit = '{limit}'")
    if str(path) != ":memory:":
        con.execute("set temp_directory = ?", [str(Path(path).with_suffix(".tmp"))])
    key = None if str(path) == ":memory:" else str(Path(path).resolve())
    if key is None or key not in _SET_UP:
        con.execute(sql("warehouse"))
        check_schema_version(con, path)
        load_reference_tables(con)
        for view in sorted((SQL_DIR / "views").glob("*.sql")):
            con.execute(f"create or replace view {view.stem} as {view.read_text()}")
        if key:
            _SET_UP.add(key)
    con.execute(sql("macros"))  # temporary: per connection
    return con


def check_schema_version(con: duckdb.DuckDBPyConnection, path: str | Path) -> None:
    """Record the schema version in a new warehouse; refuse one written with another."""
    con.execute(
        "insert into warehouse_info values ('schema_version', ?) on conflict do nothing",
        [SCHEMA_VERSION],
    )
    (version,) = con.execute(
        "select value from warehouse_info where key = 'schema_version'"
    ).fetchall()[0]
    if version != SCHEMA_VERSION:
        con.close()
        raise WarehouseOutdated(
            f"{path}: warehouse schema version {version}, this liver-audit writes version "
            f"{SCHEMA_VERSION}: use a new --warehouse"
        )


def load_reference_tables(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the reference tables from data/: code titles, synonyms, the rule catalogue."""
    catalogue = load_catalogue()
    con.execute(
        "create or replace table opcs4_codes as "
        "select * from read_csv(?, header = true, all_varchar = true)",
        [str(REFERENCE_DIR / "opcs4_codes.csv")],
    )
    con.execute(
        "create or replace table approach_synonyms as "
        "select lower(trim(synonym)) as synonym, approach "
        "from read_csv(?, header = true, all_varchar = true)",
        [str(REFERENCE_DIR / "approach_synonyms.csv")],
    )
    for table, frame in {
        "rule_catalogue": catalogue.rule_table(),
        "rule_codes": catalogue.rule_codes(),
        "rule_outcomes": catalogue.outcome_table(),
    }.items():
        con.register("frame", frame)
        con.execute(f"create or replace table {table} as select * from frame")
        con.unregister("frame")


@contextmanager
def warehouse(path: str | Path):
    """A connection to the warehouse file, closed afterwards."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = connect(path)
    try:
        yield con
    finally:
        con.close()


def utc_now() -> datetime:
    """Now in UTC, as the naive timestamp the warehouse stores (its columns are UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def start_run(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Record the run as running, with its catalogue version."""
    con.execute(
        "insert into runs (run_id, started_at, status, catalogue_version) "
        "values (?, ?, 'running', ?)",
        [run_id, utc_now(), load_catalogue().version],
    )


def record_summary(con: duckdb.DuckDBPyConnection, summary: dict) -> None:
    """Record the run's counts and outcome counts (summary.json's figures: counts only)."""
    run_id = summary["run_id"]
    con.begin()
    con.execute(
        """
        update runs set rows_read = ?, rows_loaded = ?, rows_quarantined = ?,
            procedures_assessed = ?, summary = ?
        where run_id = ?
        """,
        [summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"],
         summary["procedures_assessed"], json.dumps(summary, default=str), run_id],
    )  # fmt: skip
    con.execute("delete from run_outcomes where run_id = ?", [run_id])
    con.executemany(
        "insert into run_outcomes values (?, ?, ?)",
        [[run_id, outcome, count] for outcome, count in summary["outcomes"].items()],
    )
    con.commit()


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str) -> None:
    """Record how the run ended: completed or failed."""
    con.execute(
        "update runs set finished_at = ?, status = ? where run_id = ?",
        [utc_now(), status, run_id],
    )


def record_stages(con: duckdb.DuckDBPyConnection, run_id: str, records: list[StageRecord]) -> None:
    """Record a task's timed stages in run_stages."""
    if not records:
        return
    con.executemany(
        "insert into run_stages values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [run_id, r.stage, r.file_name, r.started_at.astimezone(UTC).replace(tzinfo=None),
             r.seconds, r.rows, r.status, r.error]
            for r in records
        ],
    )  # fmt: skip
