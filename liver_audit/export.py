"""The warehouse as Hive-partitioned Parquet (financial year, then provider), for engines
beyond one machine: DuckDB, Spark, Trino and Athena read the folders directly
(`read_parquet('DIR/episodes/**/*.parquet', hive_partitioning = true)`).

Each table is written to a new folder and swapped in whole, so a reader never sees a half
written table, and exporting the same warehouse twice gives the same files.
"""

import shutil
from pathlib import Path

import duckdb

from liver_audit.config import private_mode
from liver_audit.warehouse import sql

# The stable views exported, each partitioned by financial year and provider.
TABLES = ["episodes", "procedures", "assessments"]


def export_parquet(con: duckdb.DuckDBPyConnection, out: Path) -> dict[str, int]:
    """Write each table to out/<table>/financial_year=YYYY-YY/provider=XXX/*.parquet; returns
    the rows written per table."""
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    for table in TABLES:
        query = sql(f"exports/{table}")
        staging, final = out / f".{table}.writing", out / table
        shutil.rmtree(staging, ignore_errors=True)
        con.execute(
            f"copy ({query}) to '{_quoted(staging)}' "
            "(format parquet, partition_by (financial_year, provider), compression zstd, "
            "write_partition_columns false)"
        )
        written[table] = con.execute(f"select count(*) from ({query})").fetchall()[0][0]
        if not staging.exists():  # no rows: an empty table folder all the same
            staging.mkdir()
        # DuckDB makes partition folders 0755 less the umask: with share_with_group, the
        # group's next export could not replace them.
        for folder in [staging, *staging.rglob("*")]:
            if folder.is_dir():
                folder.chmod(private_mode(folder=True))
        old = out / f".{table}.old"
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        staging.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    return written


def _quoted(path: Path) -> str:
    """A path as the inside of a SQL string literal (COPY TO takes no parameters)."""
    return str(path).replace("'", "''")
