"""Loading one input file: read as delivered, stage (sql/), validate (schemas/), then load
the valid rows and quarantine the rest, all in one transaction. Heavy lifting is DuckDB SQL
and polars; nothing here loops over rows."""

from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import polars as pl

from liver_audit.errors import ReconciliationError
from liver_audit.extracts import (
    RawFile,
    check_columns,
    create_raw_view,
    detect_format,
    header_columns,
    numbered_columns,
    procedure_columns,
    read_raw,
    start_hashing,
)
from liver_audit.progress import stage
from liver_audit.validation import failed_checks
from liver_audit.warehouse import sql
from schemas import StagedEpisode, StagedProcedure, StagedTheatreRecord

# Staged column -> the source field a user knows it by (quarantine.csv's `field`).
SOURCE_FIELDS = {
    "episode_id": "EPIKEY",
    "episode_id_copies": "EPIKEY",
    "provider_code": "PROCODE3",
    "admission_date_text": "ADMIDATE",
    "episode_start_text": "EPISTART",
    "episode_end_text": "EPIEND",
    "sex": "SEX",
    "start_age_text": "STARTAGE",
    "operation_date_text": "OPDATE",
}


@dataclass
class FileResult:
    """Counts for one loaded file; rows_read = rows_loaded + rows_quarantined."""

    file_id: int
    file_kind: str
    file_name: str
    file_format: str
    sha256: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    malformed_lines: int

    def as_dict(self) -> dict:
        return asdict(self)


def inspect_file(con: duckdb.DuckDBPyConnection, path: Path, kind: str) -> str:
    """Check a file is usable before any loading: returns its format, or raises UnusableInput."""
    file_format = detect_format(path)
    check_columns(path, kind, header_columns(con, path, file_format))
    return file_format


def load_file(con: duckdb.DuckDBPyConnection, path: Path, kind: str, run_id: str) -> FileResult:
    """Load one episode extract or theatre file into the warehouse, in one transaction."""
    path = Path(path)
    file_format = inspect_file(con, path, kind)
    digest_future = start_hashing(path)
    file_id = con.execute("select nextval('input_file_ids')").fetchall()[0][0]
    raw = RawFile(path, kind, file_format, raw_table=f"raw_{kind}_{file_id}")
    # The raw table is committed on its own first: rowid numbers a committed table's rows
    # in file order, which gives each row its source_row (not so inside a transaction).
    stage(f"{path.name}: reading")
    read_raw(con, raw)
    stage(f"{path.name}: {raw.rows_read:,} rows read; staging and validating")
    con.begin()
    try:
        create_raw_view(con, raw)
        if kind == "episode_extract":
            rows_loaded = _load_episodes(con, raw, file_id)
        else:
            rows_loaded = _load_theatre_records(con, raw, file_id)
        stage(f"{path.name}: {rows_loaded:,} rows loaded")
        digest = digest_future.result()
        rows_quarantined = con.execute(
            "select count(distinct source_row) from quarantine where file_id = ?", [file_id]
        ).fetchall()[0][0]
        result = FileResult(
            file_id, kind, path.name, file_format, digest,
            raw.rows_read, rows_loaded, rows_quarantined, raw.malformed_lines,
        )  # fmt: skip
        if result.rows_read != result.rows_loaded + result.rows_quarantined:
            raise ReconciliationError(
                f"{path.name}: rows read {result.rows_read} != loaded {result.rows_loaded}"
                f" + quarantined {result.rows_quarantined}"
            )
        con.execute(
            "insert into input_files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [file_id, run_id, kind, path.name, str(path.resolve()), digest, file_format,
             raw.raw_table, result.rows_read, rows_loaded, rows_quarantined],
        )  # fmt: skip
        con.commit()
    except BaseException:
        con.rollback()
        con.execute(f"drop table if exists {raw.raw_table}")
        raise
    return result


def _quarantine(
    con: duckdb.DuckDBPyConnection,
    raw: RawFile,
    file_id: int,
    failures: pl.DataFrame,
    staged: str,
) -> None:
    """Write failed checks and malformed lines to the quarantine table; make the temporary
    tables quarantined_rows and loaded_rows (source rows, and the episodes they carry)."""
    procedures = procedure_columns(raw.columns)
    dates = numbered_columns(raw.columns, r"OPDATE_(\d{2})")
    position = pl.col("position")
    failures = failures.with_columns(
        field=pl.when(pl.col("column") == "procedure_code")
        .then(position.replace_strict(procedures, default=None, return_dtype=pl.String))
        .when(pl.col("column") == "procedure_date_text")
        .then(position.replace_strict(dates, default=None, return_dtype=pl.String))
        .otherwise(pl.col("column").replace_strict(SOURCE_FIELDS, default=pl.col("column")))
    )
    con.register("failures", failures)
    con.execute(
        f"""
        insert into quarantine
        select ?, ?, failures.source_row, staged.episode_id, failures.reason, failures.field,
            failures.value
        from failures
        left join {staged} as staged on staged.source_row = failures.source_row
        union all
        select ?, ?, source_row, null, 'line_malformed', null, error_type
        from raw_malformed_lines
        """,
        [file_id, raw.path.name, file_id, raw.path.name],
    )
    con.unregister("failures")
    con.execute(
        "create or replace temp table quarantined_rows as "
        "select distinct source_row from quarantine where file_id = ?",
        [file_id],
    )
    # The rows that load; the latest delivery of their episode replaces what the warehouse
    # held for it (a quarantined row replaces nothing).
    con.execute(
        "create or replace temp table loaded_rows as "
        f"select source_row, episode_id from {staged} anti join quarantined_rows using (source_row)"
    )


def _stage(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(f"create or replace temp table {name} as {sql(name)}")


def _load_episodes(con: duckdb.DuckDBPyConnection, raw: RawFile, file_id: int) -> int:
    _stage(con, "stg_episodes")
    _stage(con, "stg_procedures")
    failures = pl.concat(
        [
            failed_checks(con, "stg_episodes", StagedEpisode),
            failed_checks(con, "stg_procedures", StagedProcedure),
        ]
    )
    _quarantine(con, raw, file_id, failures, "stg_episodes")
    con.execute("delete from procedures where episode_id in (select episode_id from loaded_rows)")
    con.execute("delete from episodes where episode_id in (select episode_id from loaded_rows)")
    con.execute(
        """
        insert into procedures
        select loaded_rows.episode_id, position, procedure_code, procedure_date, ?
        from stg_procedures
        inner join loaded_rows using (source_row)
        where procedure_code not in ('-', '&')
        """,
        [file_id],
    )
    con.execute(
        """
        insert into episodes
        select episode_id, ?, source_row, provider_code, admission_date, episode_start_date,
            episode_end_date, sex, start_age, primary_diagnosis_code
        from stg_episodes
        anti join quarantined_rows using (source_row)
        """,
        [file_id],
    )
    return con.execute("select count(*) from loaded_rows").fetchall()[0][0]


def _load_theatre_records(con: duckdb.DuckDBPyConnection, raw: RawFile, file_id: int) -> int:
    _stage(con, "stg_theatre_records")
    failures = failed_checks(con, "stg_theatre_records", StagedTheatreRecord)
    _quarantine(con, raw, file_id, failures, "stg_theatre_records")
    con.execute(
        "delete from theatre_records where episode_id in (select episode_id from loaded_rows)"
    )
    con.execute(
        """
        insert into theatre_records
        select episode_id, operation_date, approach_text, approach, ?, source_row
        from stg_theatre_records
        anti join quarantined_rows using (source_row)
        """,
        [file_id],
    )
    return con.execute("select count(*) from loaded_rows").fetchall()[0][0]
