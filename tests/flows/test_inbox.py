"""The inbox and its ledger: new files load, content loaded before is skipped and said so,
the same inputs twice leave the warehouse and the outputs as after the first run, and a
newer delivery replaces only the episodes it changes (the others keep their assessments)."""

import os
import shutil
from pathlib import Path

import duckdb
import pytest

import flows.audit
from flows.audit import audit_run
from liver_audit.config import default_settings
from tests.conftest import SAMPLE
from tests.tables import episode_extract, theatre_file

# Every table of data (not of run records), as rows: equal before and after = untouched.
DATA_TABLES = ["episodes", "procedures", "theatre_records", "quarantine", "assessments",
               "input_files"]  # fmt: skip


def snapshot(warehouse) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = {t: con.sql(f"select * from {t} order by all").fetchall() for t in DATA_TABLES}
        tables["raw views"] = con.sql(
            "select view_name from duckdb_views() where view_name like 'raw_%' order by 1"
        ).fetchall()
        tables["kept files"] = sorted(p.name for p in Path(f"{warehouse}.delivered").iterdir())
        return tables


def query(warehouse, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_the_same_inbox_twice_changes_nothing_the_second_time(prefect_harness, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("episodes.csv", "theatre.csv"):
        shutil.copy(SAMPLE / name, inbox / name)
    (inbox / "next-month.csv.part").write_text("still being copied")
    run = dict(
        settings=default_settings(
            inbox=str(inbox),
            warehouse=str(tmp_path / "wh.duckdb"),
            reports=str(tmp_path / "reports"),
        )
    )
    first = audit_run(**run, run_id="night-1")
    assert [f["file_name"] for f in first["files"]] == ["episodes.csv", "theatre.csv"]
    # the theatre file was told apart by its header; 158 positions assessed:
    # data/sample/README.md, "Expected totals"
    assert first["procedures_assessed"] == 158
    after_first = snapshot(tmp_path / "wh.duckdb")
    outputs = sorted(p.relative_to(tmp_path) for p in (tmp_path / "reports").rglob("*"))

    second = audit_run(**run, run_id="night-2")
    assert second["out_dir"] is None and second["files"] == []
    assert [(f["file_name"], f["reason"]) for f in second["files_skipped"]] == [
        ("episodes.csv", "content already loaded, as episodes.csv by run night-1"),
        ("theatre.csv", "content already loaded, as theatre.csv by run night-1"),
    ]
    assert snapshot(tmp_path / "wh.duckdb") == after_first
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "reports").rglob("*")) == outputs
    assert query(tmp_path / "wh.duckdb", "select run_id, status from runs order by 1") == [
        ("night-1", "completed"),
        ("night-2", "completed"),
    ]
    assert query(
        tmp_path / "wh.duckdb", "select run_id, file_name, action from ledger order by all"
    ) == [
        ("night-1", "episodes.csv", "loaded"),
        ("night-1", "theatre.csv", "loaded"),
        ("night-2", "episodes.csv", "skipped"),
        ("night-2", "theatre.csv", "skipped"),
    ]
    # the partial copy was left alone
    assert (inbox / "next-month.csv.part").exists()


def test_processed_files_move_out_of_the_inbox(prefect_harness, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE / "episodes.csv", inbox / "episodes.csv")
    (inbox / "notes.txt").write_text("not an extract\n")
    run = dict(
        settings=default_settings(
            inbox=str(inbox),
            warehouse=str(tmp_path / "wh.duckdb"),
            reports=str(tmp_path / "reports"),
            move_processed=True,
        )
    )
    with pytest.raises(flows.audit.RefusedFiles, match="notes.txt: row 0 \\(header\\)"):
        audit_run(**run, run_id="night-1")
    assert sorted(str(p.relative_to(inbox)) for p in inbox.rglob("*") if p.is_file()) == [
        "processed/episodes.csv",
        "refused/notes.txt",
    ]
    # the same extract delivered again goes to processed/ too, under a new name
    shutil.copy(SAMPLE / "episodes.csv", inbox / "episodes.csv")
    audit_run(**run, run_id="night-2")
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == [
        "episodes.csv",
        "episodes.night-2.csv",
    ]


def test_a_newer_delivery_replaces_only_the_episodes_it_changes(prefect_harness, tmp_path):
    def deliver(name: str, rows: list[dict], age: int):
        path = episode_extract(tmp_path / "inbox" / name, rows)
        os.utime(path, (age, age))  # delivery order is by modified time
        return path

    (tmp_path / "inbox").mkdir()
    deliver("april.txt", [
        {"EPIKEY": "000000000001", "codes": "J023 Y752"},
        {"EPIKEY": "000000000002", "codes": "J024"},
        {"EPIKEY": "000000000003", "codes": "J023 Y752"},
    ], age=1_000)  # fmt: skip
    theatre_file(tmp_path / "inbox" / "theatre.csv", [
        {"EPIKEY": "000000000001", "APPROACH": "laparoscopic"},
        {"EPIKEY": "000000000002", "APPROACH": "laparoscopic"},
        {"EPIKEY": "000000000003", "APPROACH": "laparoscopic"},
    ])  # fmt: skip
    run = dict(
        settings=default_settings(
            inbox=str(tmp_path / "inbox"),
            warehouse=str(tmp_path / "wh.duckdb"),
            reports=str(tmp_path / "reports"),
        )
    )
    first = audit_run(**run, run_id="run-1")
    assert first["procedures_assessed"] == 5  # every code (opcs_code_in_force judges each)

    # May's cumulative extract: episode 1 as before, episode 2 corrected, episode 4 new
    deliver("may.txt", [
        {"EPIKEY": "000000000001", "codes": "J023 Y752"},
        {"EPIKEY": "000000000002", "codes": "J024 Y752"},
        {"EPIKEY": "000000000004", "codes": "J023"},
    ], age=2_000)  # fmt: skip
    second = audit_run(**run, run_id="run-2")
    acda, lra, scpp = (
        "approach_code_directly_after", "liver_resection_approach",
        "subsidiary_code_in_primary_position",
    )  # fmt: skip
    (may,) = second["files"]
    assert (may["file_name"], may["rows_loaded"], may["rows_unchanged"]) == ("may.txt", 3, 1)
    assert second["procedures_assessed"] == 3  # episodes 2 and 4, not the unchanged 1
    latest = query(
        tmp_path / "wh.duckdb",
        "select episode_id, rule_id, run_id, outcome from latest_assessments "
        f"where rule_id in {(acda, lra, scpp)} order by episode_id, rule_id",
    )  # (the other rules have their own cases: every code here is in force, no diagnosis)
    # each rule's cases.md: J02.3/J02.4 + Y75.2, documented laparoscopic, is compliant with
    # all three rules; a J02.3 alone, no theatre record, is an open procedure, gets no finding
    # of approach_code_directly_after (no approach code in its run) and starts with a procedure
    assert latest == [
        ("000000000001", acda, "run-1", "compliant"),  # kept: unchanged
        ("000000000001", lra, "run-1", "compliant"),
        ("000000000001", scpp, "run-1", "compliant"),
        ("000000000002", acda, "run-2", "compliant"),  # reassessed: corrected
        ("000000000002", lra, "run-2", "compliant"),
        ("000000000002", scpp, "run-2", "compliant"),
        ("000000000003", acda, "run-1", "compliant"),  # kept: not in May's extract
        ("000000000003", lra, "run-1", "compliant"),
        ("000000000003", scpp, "run-1", "compliant"),
        ("000000000004", lra, "run-2", "open_procedure"),  # no theatre record, no approach code
        ("000000000004", scpp, "run-2", "compliant"),
    ]
    assert query(
        tmp_path / "wh.duckdb",
        "select rule_id, outcome from assessments "
        "where run_id = 'run-1' and episode_id = '000000000002' "
        f"and rule_id in {(acda, lra, scpp)} order by rule_id",
    ) == [
        (lra, "missing_approach_code"),  # the history keeps what run 1 found
        (scpp, "compliant"),  # (J02.4 alone: no approach code, no finding of acda)
    ]

    # Forcing a reload of May's extract changes nothing: every episode in it is unchanged
    third = audit_run(
        default_settings(warehouse=str(tmp_path / "wh.duckdb"), reports=str(tmp_path / "reports")),
        extracts=[str(tmp_path / "inbox" / "may.txt")],
        run_id="run-3",
        reload=True,
    )
    (may,) = third["files"]
    assert (may["rows_loaded"], may["rows_unchanged"], third["procedures_assessed"]) == (3, 3, 0)
    assert query(
        tmp_path / "wh.duckdb",
        "select episode_id, rule_id, run_id from latest_assessments "
        f"where rule_id in {(acda, lra, scpp)} order by episode_id, rule_id",
    ) == [(e, rule, r) for e, rule, r, _ in latest]


def test_a_transient_failure_is_retried(prefect_harness, tmp_path, monkeypatch):
    """An I/O error (say, a network share that blinked) fails the load once; the retry loads."""
    load_file = flows.audit.load_file
    calls = []

    def flaky_load_file(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("the share went away")
        return load_file(*args, **kwargs)

    monkeypatch.setattr(flows.audit, "load_file", flaky_load_file)
    summary = audit_run(
        default_settings(warehouse=str(tmp_path / "wh.duckdb"), reports=str(tmp_path / "reports")),
        extracts=[str(SAMPLE / "episodes.csv")],
        run_id="run-1",
    )
    # 74: data/sample/README.md, "Expected totals"
    assert len(calls) == 2 and summary["rows_loaded"] == 74
    assert query(tmp_path / "wh.duckdb", "select status from runs") == [("completed",)]
