"""A run that fails leaves a clear record: the run marked failed, the file and stage that
failed with the error's type (never its message), and nothing half-loaded."""

import duckdb
import pytest

from flows.audit import audit_run
from liver_audit.errors import UnusableInput
from tests.conftest import SAMPLE
from tests.tables import episode_extract

GOOD = {"EPIKEY": "000000000001", "codes": "J023 Y752"}


def test_a_failed_run_records_which_file_and_stage_failed(prefect_harness, tmp_path):
    rows = [GOOD, {"EPIKEY": "000000000002", "PROCODE3": '"RXA'}]
    rows += [{"EPIKEY": f"{n:012d}"} for n in range(3, 50)]
    broken = episode_extract(tmp_path / "broken.txt", rows)  # a quote never closed
    warehouse = tmp_path / "warehouse.duckdb"
    with pytest.raises(UnusableInput):
        audit_run(
            extracts=[str(SAMPLE / "episodes.csv"), str(broken)],
            warehouse_path=str(warehouse),
            out_dir=str(tmp_path / "audit"),
            run_id="failing-run",
        )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.sql("select status, finished_at is not null from runs").fetchall() == [
            ("failed", True)
        ]
        stages = con.sql(
            "select file_name, stage, status, error from run_stages order by started_at"
        ).fetchall()
        assert stages == [
            ("episodes.csv", "read", "completed", None),
            ("episodes.csv", "stage", "completed", None),
            ("episodes.csv", "validate", "completed", None),
            ("episodes.csv", "load", "completed", None),
            ("broken.txt", "read", "failed", "UnusableInput"),
        ]
        # the file that failed left nothing behind; the one before it loaded whole
        assert con.sql("select file_name from input_files").fetchall() == [("episodes.csv",)]
        raw_tables = con.sql(
            "select count(*) from duckdb_tables() where table_name like 'raw_%'"
        ).fetchall()
        assert raw_tables == [(1,)]
    assert not (tmp_path / "audit").exists()
