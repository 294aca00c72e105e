"""A run whose data outgrows DuckDB's memory limit spills to <warehouse file>.tmp/ and completes:
the national-scale path (a 21M-row year under a 2 GB limit), here at a small scale under a
tiny limit. Every task's connection shares the run's database once it has spilled."""

import os
import stat
import subprocess
import sys

import pytest

from bench.generate_extract import generate
from flows.audit import audit_run
from liver_audit.config import default_settings
from liver_audit.warehouse import connect, recover_interrupted_runs

pytestmark = pytest.mark.slow

ROWS = 300_000


def test_a_run_that_spills_to_disk_completes(prefect_harness, tmp_path, monkeypatch):
    extract, theatre = tmp_path / "extract.csv", tmp_path / "theatre.csv"
    generate(ROWS, extract, "csv", seed=3, theatre_out=theatre)
    monkeypatch.setenv("LIVER_AUDIT_MEMORY_LIMIT", "100MB")
    summary = audit_run(
        default_settings(warehouse=str(tmp_path / "warehouse.duckdb")),
        extracts=[str(extract)],
        theatre=str(theatre),
        out_dir=str(tmp_path / "audit"),
    )
    assert summary["rows_read"] == ROWS + summary["files"][1]["rows_read"]
    assert summary["rows_read"] == summary["rows_loaded"] + summary["rows_quarantined"]
    assert summary["procedures_assessed"] > 0


SPILLING_PROCESS = """
import sys, time
from liver_audit.warehouse import connect
con = connect(sys.argv[1], memory_limit="150MB")
con.execute("create temp table spilled as select range as n, md5(range::varchar) as episode_id "
            "from range(5000000) order by episode_id")
print("spilled", flush=True)
time.sleep(600)
"""


def test_what_a_killed_process_spilled_is_deleted_by_the_next_run(tmp_path):
    """A process killed outright (SIGKILL, out of memory) leaves its spill files, episode-level
    rows, in <warehouse file>.tmp/: the next run's start deletes them, and only them."""
    warehouse = tmp_path / "warehouse.duckdb"
    spill = tmp_path / "warehouse.duckdb.tmp"
    spill.mkdir(mode=0o755)  # as a DuckDB session made it before: the umask's mode
    with connect(warehouse):
        pass
    assert stat.S_IMODE(spill.stat().st_mode) == 0o700
    process = subprocess.Popen(
        [sys.executable, "-c", SPILLING_PROCESS, str(warehouse)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline() == "spilled\n"
    process.kill()
    process.wait()
    assert list(spill.glob(f"duckdb_temp_{process.pid}_*"))
    alive = spill / f"duckdb_temp_{os.getpid()}_0_owner"  # a live process's: kept
    alive.touch()
    with connect(warehouse) as con:
        recover_interrupted_runs(con)
    assert list(spill.iterdir()) == [alive]
