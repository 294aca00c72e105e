"""A run whose PREFECT_API_URL names a server that does not answer is refused in one line,
as `serve` is, before it touches the warehouse; a run that took the warehouse's lock and then
failed is in the history as failed, with its reason."""

import os
import subprocess
import sys

import duckdb
import pytest

from tests.conftest import REPO, SAMPLE
from tests.processes import free_port


def liver_audit(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "liver_audit.cli", *args],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
    )  # fmt: skip


@pytest.mark.parametrize("fan_out", [True, False], ids=["fan-out", "one machine"])
def test_no_prefect_server_at_the_url_is_said_in_one_line(tmp_path, fan_out):
    url = f"http://127.0.0.1:{free_port()}/api"  # nothing listens there
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_API_URL"] = url
    (tmp_path / "work").mkdir()
    args = ["run", str(SAMPLE / "episodes.csv"), "--warehouse", str(tmp_path / "wh.duckdb")]
    if fan_out:
        args += ["--work-pool", "liver-audit", "--work-folder", str(tmp_path / "work")]
    result = liver_audit(*args, env=env)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"liver-audit: no Prefect server answers at {url}: start one (make server) or set "
        "PREFECT_API_URL"
    ]
    # refused before the warehouse: nothing to record a run in, nothing created
    assert not (tmp_path / "wh.duckdb").exists()


@pytest.mark.slow  # a real run through the CLI, its own Prefect server: make test-all (CI)
def test_a_run_that_took_the_warehouse_fails_into_the_history(tmp_path):
    """Decision (pinned, not a fix): a run that got the warehouse's lock is recorded, failed
    with its reason, however early it failed (here its synonym table, before any file)."""
    (tmp_path / "synonyms.csv").write_text("synonym,approach\nlap,keyhole\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    result = liver_audit(
        "run", str(SAMPLE / "episodes.csv"), "--warehouse", str(tmp_path / "wh.duckdb"),
        "--synonyms", str(tmp_path / "synonyms.csv"), env=env,
    )  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "synonyms.csv: row 1: field approach must be one of" in line
    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        ((status, error),) = con.sql("select status, error from runs").fetchall()
    assert status == "failed" and "synonyms.csv: row 1: field approach" in error
