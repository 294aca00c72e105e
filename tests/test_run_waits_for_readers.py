"""A run waits for an analyst's `sql` or `history` session (wait_for_warehouse) as it waits
for another run, and says in one line what holds the warehouse when it gives up."""

import subprocess
import threading
import time
from pathlib import Path

import pytest

from liver_audit.errors import WarehouseBusy
from liver_audit.warehouse import connect, open_read_only, run_lock
from tests.conftest import REPO, SAMPLE
from tests.test_cli import CLI, liver_audit

pytestmark = pytest.mark.slow


@pytest.fixture
def warehouse(tmp_path) -> Path:
    """A warehouse as a run leaves it: its tables and its run lock file."""
    path = tmp_path / "wh.duckdb"
    with run_lock(path), connect(path):
        pass
    return path


def test_a_run_meets_a_reader_and_gives_up_naming_it(warehouse):
    with open_read_only(warehouse, external_access=False):
        with pytest.raises(WarehouseBusy) as busy:
            with run_lock(warehouse, wait_seconds=0.5):
                pass
    assert str(busy.value) == (
        f"{warehouse}: a liver-audit sql, history or export session has the warehouse open "
        "(waited 0.5 s)"
    )


def test_a_run_waits_for_a_reader_to_finish(warehouse):
    opened, started = threading.Event(), time.monotonic()

    def analyst():
        with open_read_only(warehouse):
            opened.set()
            time.sleep(1.5)

    reader = threading.Thread(target=analyst)
    reader.start()
    opened.wait(10)
    with run_lock(warehouse, wait_seconds=30), connect(warehouse) as con:
        assert time.monotonic() - started >= 1.5
        con.execute("select count(*) from runs").fetchall()
    reader.join()


@pytest.mark.parametrize("external_access", [True, False])
def test_a_reader_meets_a_run_in_one_line(warehouse, external_access):
    with run_lock(warehouse):
        with pytest.raises(WarehouseBusy, match="in use by a run; try again when it ends"):
            with open_read_only(warehouse, external_access):
                pass


def test_another_run_is_named_as_a_run(warehouse):
    with run_lock(warehouse), pytest.raises(WarehouseBusy) as busy:
        with run_lock(warehouse):
            pass
    assert str(busy.value) == f"{warehouse}: another liver-audit run is using the warehouse"


def test_the_command_waits_for_an_open_sql_prompt(warehouse, tmp_path):
    """`liver-audit run` while an analyst's `liver-audit sql` prompt is open: without waiting
    it exits 1 in one line naming the session; with --wait-for-warehouse it runs once the
    analyst quits."""
    prompt = subprocess.Popen(
        [*CLI, "sql", "--warehouse", str(warehouse)], cwd=REPO, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    run = [*CLI, "run", str(SAMPLE / "episodes.csv"), "--warehouse", str(warehouse),
           "--reports", str(tmp_path / "reports")]  # fmt: skip
    try:
        assert prompt.stdout.readline().startswith("liver-audit SQL (read-only)")
        refused = liver_audit(*run[len(CLI) :])
        waiting = subprocess.Popen(
            [*run, "--wait-for-warehouse", "120"], cwd=REPO, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        time.sleep(3)
        assert waiting.poll() is None  # still waiting for the analyst
        prompt.communicate(".quit\n", timeout=30)
        _, waited = waiting.communicate(timeout=300)
    finally:
        prompt.kill()
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"liver-audit: {warehouse}: a liver-audit sql, history or export session has the "
        "warehouse open"
    ]
    assert waiting.returncode == 0, waited
