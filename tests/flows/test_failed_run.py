"""A run that fails leaves a clear record (which file, which stage, why: never a row value),
nothing half-loaded, and the next run proceeds."""

import duckdb
import pytest
from prefect import get_client

import liver_audit.load
from flows.audit import audit_run
from liver_audit.config import default_settings
from liver_audit.errors import RefusedFiles, StageFailed
from tests.conftest import SAMPLE
from tests.tables import episode_extract

# Real runs end to end: make test-all (CI).
pytestmark = pytest.mark.slow

GOOD = {"EPIKEY": "000000000001", "codes": "J023 Y752"}


def read(warehouse, query):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(query).fetchall()


def test_a_file_found_unusable_is_refused_and_the_rest_loads(prefect_harness, tmp_path):
    rows = [GOOD, {"EPIKEY": "000000000002", "PROCODE3": '"RXA'}]
    rows += [{"EPIKEY": f"{n:012d}"} for n in range(3, 50)]
    broken = episode_extract(tmp_path / "broken.txt", rows)  # a quote never closed
    warehouse = tmp_path / "warehouse.duckdb"
    with pytest.raises(RefusedFiles, match="broken.txt: row 2: a quote opened here"):
        audit_run(
            default_settings(warehouse=str(warehouse)),
            extracts=[str(broken), str(SAMPLE / "episodes.csv")],
            out_dir=str(tmp_path / "audit"),
            run_id="run-1",
        )
    (status, error), *_ = read(warehouse, "select status, error from runs")
    assert status == "failed" and "broken.txt: row 2" in error
    assert read(warehouse, "select file_name, stage, status, error from run_stages "
                "where file_name = 'broken.txt'") == [
        ("broken.txt", "read", "failed", "UnusableInput")
    ]  # fmt: skip
    assert read(warehouse, "select file_name, action from ledger order by file_name") == [
        ("broken.txt", "refused"),
        ("episodes.csv", "loaded"),
    ]
    # nothing of the refused file is left; the other file loaded whole and was audited
    assert read(warehouse, "select file_name from input_files") == [("episodes.csv",)]
    assert read(warehouse, "select view_name from duckdb_views() where view_name like 'raw_%'") == [
        ("raw_episode_extract_2",)
    ]  # broken.txt was file 1
    assert read(
        warehouse, "select count(*) from duckdb_tables() where table_name like 'stage_input_%'"
    ) == [(0,)]
    kept = sorted(path.name for path in (tmp_path / "warehouse.duckdb.delivered").iterdir())
    assert kept == ["raw_episode_extract_2.txt"]
    assert (tmp_path / "audit" / "report.html").is_file()


def test_a_stage_that_fails_is_named_and_the_next_run_proceeds(
    prefect_harness, tmp_path, monkeypatch
):
    def broken_validation(*args):
        raise RuntimeError("a value from a row, which must not reach the record")

    warehouse = tmp_path / "warehouse.duckdb"
    run = dict(
        settings=default_settings(warehouse=str(warehouse), reports=str(tmp_path / "reports")),
        extracts=[str(SAMPLE / "episodes.csv")],
    )
    monkeypatch.setattr(liver_audit.load, "failed_checks", broken_validation)
    with pytest.raises(StageFailed, match="^episodes.csv, stage validate: RuntimeError$"):
        audit_run(**run, run_id="night-1")
    monkeypatch.undo()
    assert read(warehouse, "select status, error from runs") == [
        ("failed", "episodes.csv, stage validate: RuntimeError")
    ]
    assert read(warehouse, "select stage, status, error from run_stages") == [
        ("plan", "completed", None),
        ("read", "completed", None),
        ("stage", "completed", None),
        ("validate", "failed", "RuntimeError"),
    ]
    assert read(warehouse, "select count(*) from input_files") == [(0,)]
    assert read(warehouse, "select count(*) from ledger where action = 'loaded'") == [(0,)]
    # and in Prefect: the run's markdown artifact names the file, the stage and why
    with get_client(sync_client=True) as client:
        notes = [a.data for a in client.read_artifacts() if a.key == "liver-audit-run"]
    assert any(
        "night-1 failed" in note and "episodes.csv, stage validate: RuntimeError" in note
        for note in notes
    )

    summary = audit_run(**run, run_id="night-2")  # the next night
    # data/sample/README.md, "Expected totals": 74 rows loaded; 158 positions assessed (every
    # code of the 70 episodes with a liver procedure, which opcs_code_in_force judges; no
    # theatre file changes no position)
    assert summary["rows_loaded"] == 74 and summary["procedures_assessed"] == 158
    assert read(warehouse, "select run_id, status from runs order by run_id") == [
        ("night-1", "failed"),
        ("night-2", "completed"),
    ]


def test_files_an_interrupted_run_loaded_are_assessed_by_the_next(prefect_harness, tmp_path):
    """A run killed after loading a file but before assessing it: the next run skips the file
    (the ledger has it), assesses it, and reports it in its audit files as if it had loaded
    it: the killed run wrote none."""
    from liver_audit.load import load_file
    from liver_audit.warehouse import start_run, warehouse

    path = str(tmp_path / "warehouse.duckdb")
    with warehouse(path) as con:  # what the killed run left behind
        start_run(con, "killed-run")
        load_file(con, SAMPLE / "episodes.csv", "episode_extract", "killed-run")
    summary = audit_run(
        default_settings(warehouse=path, reports=str(tmp_path / "reports")),
        extracts=[str(SAMPLE / "episodes.csv")],
        run_id="next-run",
    )
    assert summary["files_skipped"] == []
    assert [f["file_name"] for f in summary["files"]] == ["episodes.csv"]
    # data/sample/README.md, "Expected totals" (as in the previous test)
    assert summary["rows_read"] == 86 and summary["rows_quarantined"] == 12
    assert summary["procedures_assessed"] == 158 and summary["out_dir"] is not None
    assert read(path, "select run_id, status, taken_over_by from runs order by run_id") == [
        ("killed-run", "failed", "next-run"),
        ("next-run", "completed", None),
    ]
    assert read(path, "select distinct run_id from latest_assessments") == [("next-run",)]
