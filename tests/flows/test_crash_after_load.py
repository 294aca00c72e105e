"""A run killed after a load committed (issue 12, item 3): while it assesses, while it writes
the audit files, and between two files' commits. The re-run of the same command must leave
the warehouse's data tables and the audit files as one uninterrupted run would have, and no
partial audit folder: the killed run wrote no audit files, so the re-run reports its files
(runs.taken_over_by) and assesses their episodes again.

Each kill point holds the real command at one spot (a patched function that waits), then
kills it with SIGKILL, as the out-of-memory killer would."""

import signal
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.generate_extract import generate
from tests.flows.test_crash_safety import (
    check_equal,
    query,
    run_and_kill,
    run_to_completion,
    with_invalid_rows,
)

pytestmark = pytest.mark.slow

HELD = "test: the run is held here"
HOLD = f"""
import sys, time

def hold():
    print("{HELD}", file=sys.stderr, flush=True)
    time.sleep(600)

def entered(con):
    return con.execute("select count(*) from ledger where action = 'loaded'").fetchall()[0][0]

class HeldAtCommit:
    '''A connection whose commit waits instead, once `held(con)` says so.'''
    def __init__(self, con, held):
        self.con, self.held = con, held
    def __getattr__(self, name):
        return getattr(self.con, name)
    def commit(self):
        if self.held(self.con):
            hold()
        self.con.commit()
"""
# Each kill point: what the command does differently (run before liver-audit starts).
KILL_POINTS = {
    # the assessment written, its transaction not committed
    "while assessing": """
import flows.audit
assess = flows.audit.assess
flows.audit.assess = lambda con, run_id: assess(HeldAtCommit(con, lambda c: True), run_id)
""",
    # assessments.csv, quarantine.csv, summary.json and summary_shareable.csv written
    "while writing": """
import liver_audit.outputs
write_worklist = liver_audit.outputs.write_worklist
def write_then_hold(*args):
    write_worklist(*args)
    hold()
liver_audit.outputs.write_worklist = write_then_hold
""",
    # the first extract committed, the second's commit held
    "between two files": """
import liver_audit.load
load_file = liver_audit.load.load_file
liver_audit.load.load_file = lambda con, *args: load_file(
    HeldAtCommit(con, lambda c: entered(c) >= 2), *args
)
""",
}
ENTRY = """
from liver_audit.cli import entry_point
entry_point()
"""
CLI = [sys.executable, "-m", "liver_audit.cli"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Two extracts of different episodes (one with invalid rows) and a theatre file."""
    folder = tmp_path_factory.mktemp("inputs")
    first, second, theatre = folder / "first.txt", folder / "second.txt", folder / "theatre.csv"
    generate(3_000, first, theatre_out=theatre)
    with_invalid_rows(first)
    generate(2_000, second, seed=2)
    return [str(first), str(second), "--theatre", str(theatre)]


def command(cli: list[str], inputs: list[str], warehouse: Path) -> list[str]:
    return [*cli, "run", *inputs, "--warehouse", str(warehouse),
            "--reports", str(warehouse.parent / "reports")]  # fmt: skip


@pytest.fixture(scope="module")
def uninterrupted(inputs, tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("uninterrupted") / "warehouse.duckdb"
    out = run_to_completion(command(CLI, inputs, warehouse))
    return SimpleNamespace(warehouse=warehouse, out=out)


@pytest.fixture(scope="module", params=list(KILL_POINTS))
def killed_then_rerun(request, inputs, tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("killed") / "warehouse.duckdb"
    held = [sys.executable, "-c", HOLD + KILL_POINTS[request.param] + ENTRY]
    killed = run_and_kill(command(held, inputs, warehouse), "first.txt", HELD, whole_group=False)
    reports = warehouse.parent / "reports"
    left = sorted(p.name for p in reports.iterdir()) if reports.exists() else []
    loaded = query(warehouse, "select file_name from input_files order by file_id")
    out = run_to_completion(command(CLI, inputs, warehouse))
    return SimpleNamespace(
        kill_point=request.param, warehouse=warehouse, killed=killed, left=left,
        loaded=loaded, out=out,
    )  # fmt: skip


def test_the_kill_landed_after_a_load_committed(killed_then_rerun):
    killed = killed_then_rerun.killed
    assert killed.returncode == -signal.SIGKILL and HELD in killed.shown
    assert killed_then_rerun.loaded[0] == ("first.txt",)
    if killed_then_rerun.kill_point == "between two files":
        assert killed_then_rerun.loaded == [("first.txt",)]
    if killed_then_rerun.kill_point == "while writing":  # a partial set, not in its place
        (partial,) = killed_then_rerun.left
        assert partial.startswith(".") and ".writing-" in partial


def test_the_rerun_reports_what_the_killed_run_loaded(killed_then_rerun):
    warehouse = killed_then_rerun.warehouse
    (rerun,) = query(warehouse, "select run_id from runs where status = 'completed'")
    assert query(warehouse, "select status, taken_over_by from runs where status = 'failed'") == [
        ("failed", rerun[0])
    ]
    # no partial audit folder is left: only the re-run's, complete, and the index of runs
    reports = warehouse.parent / "reports"
    assert sorted(p.name for p in reports.iterdir()) == [killed_then_rerun.out.name, "index.html"]
    assert query(warehouse, "select count(*) from assessments") == query(
        warehouse, "select count(*) from latest_assessments"
    )  # each procedure assessed once: the killed run's assessments were made again


def test_the_result_equals_an_uninterrupted_run(killed_then_rerun, uninterrupted):
    rerun = check_equal(killed_then_rerun, uninterrupted)
    assert [f["file_name"] for f in rerun["files"]] == ["first.txt", "second.txt", "theatre.csv"]
    assert rerun["rows_quarantined"] == 5 and rerun["procedures_assessed"] > 0
