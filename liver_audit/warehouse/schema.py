"""The warehouse's schema: the SQL in sql/, the schema version, the reference tables."""

from pathlib import Path

import duckdb

from liver_audit import ROOT
from liver_audit.catalogue import load_catalogue
from liver_audit.config import Settings
from liver_audit.errors import UnusableInput, WarehouseOutdated

SQL_DIR = ROOT / "sql"


# Bump when sql/warehouse.sql changes a table: older warehouses are then refused, clearly.
SCHEMA_VERSION = "2"


REFERENCE_DIR = ROOT / "data" / "reference"


def sql(name: str) -> str:
    """The text of sql/<name>.sql."""
    return (SQL_DIR / f"{name}.sql").read_text()


def sql_literal(value: str | Path) -> str:
    """A SQL string literal, for where DuckDB takes no parameters (a view, a SET)."""
    return "'" + str(value).replace("'", "''") + "'"


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


def load_reference_tables(con: duckdb.DuckDBPyConnection, settings: Settings | None = None) -> None:
    """(Re)create the reference tables from data/: code titles, the approach synonym table
    (or the one the settings name), the rule catalogue."""
    catalogue = load_catalogue()
    synonyms = Path(settings.synonyms if settings else REFERENCE_DIR / "approach_synonyms.csv")
    check_synonyms(con, synonyms, {"open", *catalogue.rules[0]["expected_approach_codes"]})
    con.execute(
        "create or replace table opcs4_codes as "
        "select * from read_csv(?, header = true, all_varchar = true)",
        [str(REFERENCE_DIR / "opcs4_codes.csv")],
    )
    con.execute(
        "create or replace table approach_synonyms as "
        "select lower(trim(synonym)) as synonym, approach "
        "from read_csv(?, header = true, all_varchar = true)",
        [str(synonyms)],
    )
    for table, frame in {
        "rule_catalogue": catalogue.rule_table(),
        "rule_codes": catalogue.rule_codes(),
        "rule_outcomes": catalogue.outcome_table(),
    }.items():
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
