"""Twelve monthly extracts in one run: read and validated two at a time, written one at a
time in delivery order, and the warehouse ends as after one combined file."""

import duckdb
import pytest

from bench.generate_extract import generate, monthly_extracts
from flows.audit import audit_run
from liver_audit.config import default_settings

pytestmark = pytest.mark.slow

ROWS = 36_000
# What the warehouse holds, without the ids of the files and runs that brought it.
CONTENT = {
    "episodes": "select * exclude (file_id, source_row) from episodes",
    "procedures": "select * exclude (file_id) from procedures",
    "theatre_records": "select * exclude (file_id, source_row) from theatre_records",
    "assessments": "select * exclude (run_id) from assessments",
    "quarantine": "select reason, field, value, episode_id from quarantine",
}


@pytest.fixture(scope="module")
def runs(prefect_harness, tmp_path_factory):
    folder = tmp_path_factory.mktemp("months")
    combined, theatre = folder / "year.csv", folder / "theatre.csv"
    generate(ROWS, combined, "csv", seed=7, theatre_out=theatre)
    # a financial year, in order
    months = monthly_extracts(combined, folder, [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3])
    one = audit_run(
        default_settings(warehouse=str(folder / "one.duckdb"), reports=str(folder / "r1")),
        extracts=[str(combined)],
        theatre=str(theatre),
    )
    twelve = audit_run(
        default_settings(warehouse=str(folder / "twelve.duckdb"), reports=str(folder / "r12")),
        extracts=months,
        theatre=str(theatre),
    )
    return folder, one, twelve


@pytest.mark.parametrize("table", CONTENT)
def test_twelve_months_hold_what_one_combined_file_holds(runs, table):
    folder, _, _ = runs
    contents = []
    for name in ("one", "twelve"):
        with duckdb.connect(str(folder / f"{name}.duckdb"), read_only=True) as con:
            contents.append(con.sql(f"{CONTENT[table]} order by all").fetchall())
    assert contents[0] == contents[1]
    assert len(contents[0]) > 0 or table == "quarantine"


def test_the_same_counts_and_outcomes(runs):
    _, one, twelve = runs
    assert len(twelve["files"]) == 12 + 1
    # "rules": each rule's findings, compliant, needing action and outcome counts
    for key in ("rows_read", "rows_loaded", "rows_quarantined", "findings", "rules"):
        assert one[key] == twelve[key], key
    assert one["procedures_assessed"] > 0


def test_files_were_read_side_by_side_and_written_in_delivery_order(runs):
    folder, _, twelve = runs
    with duckdb.connect(str(folder / "twelve.duckdb"), read_only=True) as con:
        stages = con.sql(
            "select file_name, stage, started_at, started_at + to_microseconds("
            "(seconds * 1e6)::bigint) as ended_at from run_stages where file_name is not null"
        ).fetchall()
    months = [f"month-{m:02d}.csv" for m in [4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3]]
    assert [f["file_name"] for f in twelve["files"]] == [*months, "theatre.csv"]  # ids in order
    writes = sorted((start, name) for name, stage, start, _ in stages if stage == "load")
    assert [name for _, name in writes if name.startswith("month")] == months
    # some file was being read or validated while another file's stage ran
    overlapping = [
        (a, b)
        for a, _, a_start, a_end in stages
        for b, _, b_start, b_end in stages
        if a < b and a_start < b_end and b_start < a_end
    ]
    assert overlapping


def test_one_load_worker_reads_one_file_at_a_time(runs, tmp_path, monkeypatch):
    """The setting load_workers (LIVER_AUDIT_LOAD_WORKERS) decides how many files are
    prepared side by side: with 1, no file's stage overlaps another's."""
    folder, _, twelve = runs
    months = [folder / f["file_name"] for f in twelve["files"][:3]]
    monkeypatch.setenv("LIVER_AUDIT_LOAD_WORKERS", "1")
    settings = default_settings(warehouse=str(tmp_path / "w.duckdb"), reports=str(tmp_path / "r"))
    assert settings.load_workers == 1
    audit_run(settings, extracts=[str(m) for m in months])
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        stages = con.sql(
            "select file_name, min(started_at), max(started_at + to_microseconds("
            "(seconds * 1e6)::bigint)) from run_stages where file_name is not null group by 1"
        ).fetchall()
    assert len(stages) == 3
    assert not [
        (a, b) for a, a_start, a_end in stages for b, b_start, b_end in stages
        if a < b and a_start < b_end and b_start < a_end
    ]  # fmt: skip
