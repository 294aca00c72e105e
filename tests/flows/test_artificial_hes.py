"""NHS Digital's artificial HES APC sample (2,075 real-format rows) through the real flow:
counts reconcile for CSV and Parquet alike and nothing crashes."""

import csv
import re

import pytest

from flows.audit import audit_run
from liver_audit.config import default_settings
from liver_audit.errors import UnusableInput
from liver_audit.load import inspect_file
from tests.conftest import EXTERNAL

pytestmark = pytest.mark.slow

ARTIFICIAL = EXTERNAL / "artificial-hes"


@pytest.mark.parametrize(
    "name", ["artificial_hes_apc_0102_truncated.csv", "artificial_hes_apc_0102_truncated.parquet"]
)
def test_artificial_hes_reconciles(prefect_harness, tmp_path, name):
    summary = audit_run(
        default_settings(warehouse=str(tmp_path / "warehouse.duckdb")),
        extracts=[str(ARTIFICIAL / name)],
        out_dir=str(tmp_path / "out"),
    )
    (file,) = summary["files"]
    assert (file["rows_read"], file["rows_loaded"], file["rows_quarantined"]) == (2075, 2071, 4)
    # the one junk procedure code ('8   ') and the three junk diagnoses (two '0000', one
    # '7999': ../shared/external/README.md) are quarantined; the 1801-01-01 dates load as null;
    # there are no J02 codes, so no finding of the two approach rules; one episode has J09.1
    # (a liver category, J01-J12) in position 1, which subsidiary_code_in_primary_position
    # assesses: one procedure assessed, compliant (its cases.md: "ablation first"); it is the
    # episode's only code, and one of OPCS-4.9, the list its 2001 day is checked against
    assert summary["quarantine_reasons"] == {
        "procedure_code_malformed": 1, "diagnosis_code_malformed": 3
    }  # fmt: skip
    assert summary["procedures_assessed"] == 1
    # J09.1 is no resection or ablation, nor a procedure of the NICE rules: only three rules
    # find anything; its episode's diagnoses D47.1, H61.0, N18.9 are ICD-10 codes
    assert {
        r["rule_id"]: (r["findings"], r["compliant"]) for r in summary["rules"] if r["findings"]
    } == {
        "opcs_code_in_force": (1, 1),
        "subsidiary_code_in_primary_position": (1, 1),
        "icd10_code_in_force": (3, 3),
    }
    # its diagnoses load long: every DIAG_4_nn filled with a code (not '-' or '&') of the
    # 2071 rows loaded, counted from the file in the test's own way
    import duckdb

    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.sql("select count(*) from diagnoses").fetchall() == [(diagnoses_loaded(),)]
    quarantined = (tmp_path / "out" / "quarantine.csv").read_text().strip().splitlines()
    assert len(quarantined) - 1 == file["rows_quarantined"]


def diagnoses_loaded() -> int:
    """The diagnosis codes of the artificial HES rows that load: no junk procedure or
    diagnosis code (a letter, two digits, a digit or X; 3-character codes padded with X)."""
    count = 0
    with (ARTIFICIAL / "artificial_hes_apc_0102_truncated.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            fields = [(k, v.strip().upper().replace(".", "")) for k, v in row.items()]
            codes = [
                v for k, v in fields if re.fullmatch(r"DIAG_4_\d\d", k) and v not in ("", "-", "&")
            ]
            operations = [
                v
                for k, v in fields
                if re.fullmatch(r"OPERTN_4_\d\d", k) and v not in ("", "-", "&")
            ]
            if all(re.fullmatch(r"[A-HJ-Z]\d{3}", op) for op in operations) and all(
                re.fullmatch(r"[A-Z]\d{2}[0-9X]", code if len(code) != 3 else code + "X")
                for code in codes
            ):
                count += len(codes)
    return count


def test_csv_and_parquet_agree(prefect_harness, tmp_path):
    results = [
        audit_run(
            default_settings(warehouse=str(tmp_path / f"{kind}.duckdb")),
            extracts=[str(ARTIFICIAL / f"artificial_hes_apc_0102_truncated.{kind}")],
            out_dir=str(tmp_path / kind),
        )
        for kind in ("csv", "parquet")
    ]
    csv, parquet = (
        {k: r[k] for k in ("rows_read", "rows_loaded", "quarantine_reasons")} for r in results
    )
    assert csv == parquet


def test_raw_extract_mock_with_cr_cr_lf_lines_is_refused_in_one_line():
    """FILE_HES_APC.txt ends every line with CR CR LF: refused, saying so."""
    import duckdb

    with duckdb.connect() as con, pytest.raises(UnusableInput, match="lines end CR CR LF"):
        inspect_file(con, ARTIFICIAL / "FILE_HES_APC.txt", "episode_extract")
