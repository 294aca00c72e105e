"""A run whose data outgrows DuckDB's memory limit spills to <warehouse>.tmp/ and completes:
the national-scale path (a 21M-row year under a 2 GB limit), here at a small scale under a
tiny limit. Every task's connection shares the run's database once it has spilled."""

from bench.generate_extract import generate
from flows.audit import audit_run

ROWS = 300_000


def test_a_run_that_spills_to_disk_completes(prefect_harness, tmp_path, monkeypatch):
    extract, theatre = tmp_path / "extract.csv", tmp_path / "theatre.csv"
    generate(ROWS, extract, "csv", seed=3, theatre_out=theatre)
    monkeypatch.setenv("LIVER_AUDIT_MEMORY_LIMIT", "100MB")
    summary = audit_run(
        extracts=[str(extract)],
        theatre=str(theatre),
        warehouse_path=str(tmp_path / "warehouse.duckdb"),
        out_dir=str(tmp_path / "audit"),
    )
    assert summary["rows_read"] == ROWS + summary["files"][1]["rows_read"]
    assert summary["rows_read"] == summary["rows_loaded"] + summary["rows_quarantined"]
    assert summary["procedures_assessed"] > 0
