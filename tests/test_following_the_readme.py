"""The README's steps work as written, and git never takes the patient data the product
writes by default."""

import os
import shutil
import stat
import subprocess

import pytest

from tests.conftest import REPO
from tests.processes import free_port


@pytest.mark.parametrize(
    "path, ignored",
    [
        ("data/warehouse.duckdb", True),  # the default warehouse
        ("data/warehouse.duckdb.wal", True),
        ("data/warehouse.duckdb.lock", True),
        ("data/warehouse.duckdb.tmp/duckdb_temp_1_2.block", True),  # spilled rows
        ("data/warehouse.duckdb.delivered/raw_episode_extract_1.txt", True),  # kept copies
        ("elsewhere/audit.duckdb", True),  # a --warehouse anywhere in the tree
        ("elsewhere/audit.duckdb.delivered/raw_theatre_records_2.parquet", True),
        ("reports/20261130T020000Z-3f9a1c/assessments.csv", True),
        ("inbox/episodes.csv", True),  # the example settings' inbox
        ("inbox/processed/episodes.csv", True),
        ("inbox/refused/episodes.csv", True),
        ("liver-audit.toml", True),  # local settings
        ("liver-audit.example.toml", False),
        ("data/sample/episodes.csv", False),
        ("tests/golden/assessments.csv", False),
    ],
)
def test_git_ignores_where_the_product_writes_patient_data(path, ignored):
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "--quiet", path], cwd=REPO, check=False
    )
    assert (result.returncode == 0) == ignored


def test_make_serve_works_as_the_readme_says(tmp_path):
    """`cp liver-audit.example.toml liver-audit.toml`, then `make serve`: the inbox the
    example names is made (owner only), and serve goes on to look for the Prefect server."""
    for name in ["Makefile", "pyproject.toml", "requirements.lock", "liver-audit.example.toml"]:
        shutil.copy2(REPO / name, tmp_path / name)  # times kept: .venv stays up to date
    (tmp_path / ".venv").symlink_to(REPO / ".venv")
    shutil.copy(tmp_path / "liver-audit.example.toml", tmp_path / "liver-audit.toml")
    url = f"http://127.0.0.1:{free_port()}/api"  # no server: serve stops there, in one line
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    result = subprocess.run(
        ["make", "--no-print-directory", "serve"], cwd=tmp_path, capture_output=True, text=True,
        env=env | {"PREFECT_API_URL": url}, timeout=300,
    )  # fmt: skip
    assert f"liver-audit: no Prefect server answers at {url}" in result.stderr, result.stderr
    assert "no such inbox folder" not in result.stderr
    assert stat.S_IMODE((tmp_path / "inbox").stat().st_mode) == 0o700
