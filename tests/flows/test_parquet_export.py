"""The warehouse as Hive-partitioned Parquet: one folder per financial year and provider,
read back by DuckDB with hive_partitioning, holding exactly the stable views' rows."""

import duckdb
import pytest

from flows.audit import audit_run
from liver_audit.config import default_settings
from tests.conftest import SAMPLE
from tests.test_cli import liver_audit


@pytest.fixture(scope="module")
def exported(prefect_harness, tmp_path_factory):
    folder = tmp_path_factory.mktemp("parquet")
    audit_run(
        default_settings(
            warehouse=str(folder / "wh.duckdb"),
            reports=str(folder / "reports"),
            parquet=str(folder / "parquet"),
        ),
        extracts=[str(SAMPLE / "episodes.csv")],
        theatre=str(SAMPLE / "theatre.csv"),
        run_id="run-1",
    )
    return folder


def read_back(folder, table: str) -> duckdb.DuckDBPyRelation:
    return duckdb.sql(
        f"select * from read_parquet('{folder}/{table}/**/*.parquet', hive_partitioning = true)"
    )


@pytest.mark.parametrize("table", ["episodes", "procedures", "assessments"])
def test_each_view_is_written_whole_and_partitioned(exported, table):
    with duckdb.connect(str(exported / "wh.duckdb"), read_only=True) as con:
        expected = con.sql(f"select * from audit.{table} order by all").fetchall()
        columns = con.sql(f"select * from audit.{table}").columns
    back = read_back(exported / "parquet", table)
    assert set(back.columns) == {*columns, "financial_year", "provider"}
    rows = back.select(", ".join(columns)).order("all").fetchall()
    assert rows == expected and len(rows) > 0


def test_folders_are_financial_year_then_provider(exported):
    folders = sorted(
        str(path.parent.relative_to(exported / "parquet" / "episodes"))
        for path in (exported / "parquet" / "episodes").rglob("*.parquet")
    )
    assert "financial_year=2025-26/provider=RXA" in folders
    assert all(f.startswith("financial_year=") and "/provider=" in f for f in folders)
    # HES counts an episode in the financial year it ends (April to March)
    years = read_back(exported / "parquet", "episodes").aggregate(
        "financial_year, min(episode_end_date), max(episode_end_date)", "financial_year"
    )
    for year, first, last in years.fetchall():
        if year != "unknown":
            start = int(year[:4])
            assert f"{start}-04-01" <= str(first) and str(last) <= f"{start + 1}-03-31"


def test_the_export_command_writes_the_same_rows(exported):
    result = liver_audit(
        "export", "--warehouse", str(exported / "wh.duckdb"), "--parquet", str(exported / "again")
    )
    assert result.returncode == 0, result.stderr
    # one row per finding: 512, data/sample/README.md, "Findings"
    assert "assessments: 512 rows" in result.stdout
    for table in ("episodes", "procedures", "assessments"):
        first = read_back(exported / "parquet", table).order("all").fetchall()
        assert read_back(exported / "again", table).order("all").fetchall() == first
