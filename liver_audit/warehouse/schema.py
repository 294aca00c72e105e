"""The warehouse's schema: the SQL in sql/, the schema version, the reference tables."""

import hashlib
from pathlib import Path

import duckdb
import polars as pl

from liver_audit import ROOT
from liver_audit.catalogue import RULES_DIR, load_catalogue
from liver_audit.config import Settings
from liver_audit.errors import UnusableInput, WarehouseOutdated

SQL_DIR = ROOT / "sql"


# Bump when sql/warehouse.sql changes a table, with sql/migrations/<new version>.sql that
# brings a warehouse of the version before up to it (migrate); older ones are refused.
SCHEMA_VERSION = "5"


REFERENCE_DIR = ROOT / "data" / "reference"


def sql(name: str) -> str:
    """The text of sql/<name>.sql."""
    return (SQL_DIR / f"{name}.sql").read_text()


def sql_literal(value: str | Path) -> str:
    """A SQL string literal, for where DuckDB takes no parameters (a view, a SET)."""
    return "'" + str(value).replace("'", "''") + "'"


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


def load_reference_tables(con: duckdb.DuckDBPyConnection, settings: Settings | None = None) -> None:
    """(Re)create the reference tables from data/: code titles (OPCS-4 by version, ICD-10 and
    HES's diagnosis sentinels), OPCS-4 versions, the approach
    synonym table (or the one the settings name; the theatre records held are matched again
    with it), and the rule catalogue of the settings' rules folder (rule_catalogue,
    rule_codes, ...), with what the rules are run with (assessment_settings)."""
    catalogue = load_catalogue(settings.rules if settings else RULES_DIR)
    synonyms = Path(settings.synonyms if settings else REFERENCE_DIR / "approach_synonyms.csv")
    opcs_version_date = settings.opcs_version_date if settings else "procedure_date"
    code_check_scope = settings.code_check_scope if settings else "liver_episodes"
    con.execute(
        "create or replace table documented_approach_names as "
        "select * from read_csv(?, header = true, all_varchar = true)",
        [str(REFERENCE_DIR / "documented_approaches.csv")],
    )
    known = {
        name for (name,) in con.execute("select approach from documented_approach_names").fetchall()
    }
    check_synonyms(con, synonyms, known)
    con.execute(
        "create or replace table opcs_versions as "
        "select version, rank::integer as rank, first_day::date as first_day, "
        "last_day::date as last_day from read_csv(?, header = true, all_varchar = true)",
        [str(REFERENCE_DIR / "opcs_versions.csv")],
    )
    con.execute(
        "create or replace table opcs4_code_versions as "
        "select * from read_csv(?, header = true, all_varchar = true)",
        [str(REFERENCE_DIR / "opcs4_codes.csv")],
    )
    con.execute(sql("reference/opcs4_codes"))
    for table, file in (
        ("icd10_codes", "icd10_codes"),
        ("hes_diagnosis_sentinels", "hes_diagnosis_sentinels"),
        ("liver_indications", "liver_indications"),
        ("special_arrangements_guidance", "special_arrangements"),
    ):
        con.execute(
            f"create or replace table {table} as "
            "select * from read_csv(?, header = true, all_varchar = true)",
            [str(REFERENCE_DIR / f"{file}.csv")],
        )
    con.execute(
        "create or replace table approach_synonyms as "
        "select approach_key(synonym) as synonym, approach "
        "from read_csv(?, header = true, all_varchar = true)",
        [str(synonyms)],
    )
    con.execute(sql("theatre_records_rematched"))
    con.execute(
        "create or replace table verdict_kinds as "
        "select * from read_csv(?, header = true, all_varchar = true)",
        [str(REFERENCE_DIR / "verdicts.csv")],
    )
    tables = catalogue.tables() | {
        "assessment_settings": pl.DataFrame(
            {
                "catalogue_version": [catalogue.version],
                "opcs_version_date": [opcs_version_date],
                "code_check_scope": [code_check_scope],
                "synonyms_version": [hashlib.sha256(synonyms.read_bytes()).hexdigest()[:12]],
                "rules_folder": [str(catalogue.folder)],
            }
        )  # fmt: skip
    }
    for table, frame in tables.items():
        con.register("frame", frame)
        con.execute(f"create or replace table {table} as select * from frame")
        con.unregister("frame")


def catalogue_version(con: duckdb.DuckDBPyConnection) -> str:
    """The version of the catalogue the warehouse holds (load_reference_tables)."""
    return con.execute("select catalogue_version from assessment_settings").fetchall()[0][0]


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
    # The key staging matches on (approach_key in sql/macros.sql), so a repeat is one there.
    keys = [
        key
        for (key,) in con.execute(
            "select approach_key(synonym) from read_csv(?, header = true, all_varchar = true)",
            [str(path)],
        ).fetchall()
    ]
    seen: set[str] = set()
    for row_number, ((synonym, approach), key) in enumerate(
        zip(rows.select("synonym", "approach").rows(), keys, strict=True), 1
    ):
        if not key:
            raise UnusableInput(f"{path}: row {row_number}: field synonym is empty")
        if approach not in approaches:
            raise UnusableInput(
                f"{path}: row {row_number}: field approach must be one of {', '.join(sorted(approaches))}"
            )
        if key in seen:
            raise UnusableInput(f"{path}: row {row_number}: field synonym repeats an earlier row")
        seen.add(key)
