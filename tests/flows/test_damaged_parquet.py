"""A Parquet file whose footer reads but whose data pages do not is refused like any
unusable file (exit 2, one line), named or in the inbox, and the files after it load."""

import os
import shutil

import duckdb
import pytest

from flows.audit import audit_run
from liver_audit.config import default_settings
from liver_audit.errors import RefusedFiles
from tests.conftest import SAMPLE
from tests.sql.test_hostile_values import damaged_parquet
from tests.test_cli import liver_audit

pytestmark = pytest.mark.slow

REFUSED = r"damaged.parquet: cannot read as Parquet: its data is damaged \(\w+\)"


def read(warehouse, query):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(query).fetchall()


def test_a_named_damaged_parquet_file_exits_2_in_one_line_and_the_rest_loads(tmp_path):
    damaged = damaged_parquet(tmp_path / "damaged.parquet")
    result = liver_audit(
        "run", str(damaged), str(SAMPLE / "episodes.csv"),
        "--warehouse", str(tmp_path / "wh.duckdb"), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("liver-audit: refused ") and line.endswith(
        "damaged.parquet: cannot read as Parquet: its data is damaged (InvalidInputException)"
    )
    assert read(tmp_path / "wh.duckdb", "select file_name, action from ledger order by 1") == [
        ("damaged.parquet", "refused"),
        ("episodes.csv", "loaded"),
    ]
    kept = sorted(p.name for p in (tmp_path / "wh.duckdb.delivered").iterdir())
    assert kept == ["raw_episode_extract_2.txt"]  # none of the damaged file


def test_a_damaged_parquet_file_in_the_inbox_is_refused_and_the_next_one_loads(
    prefect_harness, tmp_path
):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    damaged = damaged_parquet(inbox / "damaged.parquet")
    shutil.copy(SAMPLE / "episodes.csv", inbox / "episodes.csv")
    os.utime(damaged, (1_000, 1_000))  # delivered first
    run = dict(
        settings=default_settings(
            inbox=str(inbox),
            warehouse=str(tmp_path / "wh.duckdb"),
            reports=str(tmp_path / "reports"),
            move_processed=True,
        )
    )
    with pytest.raises(RefusedFiles, match=REFUSED):
        audit_run(**run, run_id="night-1")
    assert sorted(str(p.relative_to(inbox)) for p in inbox.rglob("*") if p.is_file()) == [
        "processed/episodes.csv",
        "refused/damaged.parquet",
    ]
    assert read(tmp_path / "wh.duckdb", "select file_name, action from ledger order by 1") == [
        ("damaged.parquet", "refused"),
        ("episodes.csv", "loaded"),
    ]
    assert read(tmp_path / "wh.duckdb", "select count(*) from episodes") != [(0,)]
