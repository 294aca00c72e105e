"""Auditors' verdicts back (issue 14, part 2): the worklist's drop-down and hidden key, then
`liver-audit review` on the returned file: valid rows load, each bad row is one line naming
its sheet and row, the same file twice changes nothing, the file is kept, and a verdict
follows its episode's version."""

import hashlib

import duckdb
import openpyxl
import pytest

from liver_audit.review import KEY_HEADER, VERDICT_HEADER, VERDICTS
from tests.conftest import SAMPLE
from tests.test_cli import liver_audit

# Real runs and returned worklists end to end: make test-all (CI); tests/unit/test_review_input.py
# tries any cells in make test.
pytestmark = pytest.mark.slow

SHEET = "liver_resection_approach"


@pytest.fixture
def audited(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    result = liver_audit(
        "run", str(SAMPLE / "episodes.csv"), "--theatre", str(SAMPLE / "theatre.csv"),
        "--warehouse", str(warehouse), "--out", str(tmp_path / "audit"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return warehouse, tmp_path / "audit" / "worklist.xlsx"


def columns(sheet) -> dict[str, int]:
    return {cell.value: cell.column for cell in sheet[1]}


def verdicts(warehouse) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(
            "select sheet, sheet_row, verdict, comment from verdicts order by all"
        ).fetchall()


def test_the_worklist_offers_the_verdicts_and_hides_the_key(audited):
    _, worklist = audited
    sheet = openpyxl.load_workbook(worklist)[SHEET]
    where = columns(sheet)
    key = openpyxl.utils.get_column_letter(where[KEY_HEADER])
    assert sheet.column_dimensions[key].hidden
    (choices,) = sheet.data_validations.dataValidation
    assert choices.formula1 == '"' + ",".join(VERDICTS) + '"'
    verdict = openpyxl.utils.get_column_letter(where[VERDICT_HEADER])
    assert str(choices.sqref).startswith(f"{verdict}2:")
    assert all(sheet.cell(row, where[KEY_HEADER]).value for row in range(2, sheet.max_row + 1))


def test_the_review_round_trip(audited, tmp_path):
    warehouse, worklist = audited
    workbook = openpyxl.load_workbook(worklist)
    sheet = workbook[SHEET]
    where = columns(sheet)
    assert sheet.max_row >= 6
    fill = {
        2: ("coding error confirmed", "Y75.2 added"),
        3: ("documentation issue", None),
        4: ("looks wrong to me", "not one of the list"),
        5: ("finding not correct", None),  # its key edited below
        6: ("compliant confirmed", None),  # a verdict for the compliant sample only
        7: (None, "a comment alone"),
        8: ("re-coded", None),  # its key well-formed but no finding's
    }
    for row, (verdict, comment) in fill.items():
        sheet.cell(row, where[VERDICT_HEADER]).value = verdict
        sheet.cell(row, where["auditor comment"]).value = comment
    edited = sheet.cell(5, where[KEY_HEADER])
    edited.value = ("0" if edited.value[0] != "0" else "1") + edited.value[1:]
    body = "0123456789abcdef"
    check = hashlib.sha256(f"check {body}".encode()).hexdigest()[:4]
    sheet.cell(8, where[KEY_HEADER]).value = f"{body}-{check}"
    workbook.properties.lastModifiedBy = "A. Auditor"
    returned = tmp_path / "returned.xlsx"
    workbook.save(returned)

    result = liver_audit("review", str(returned), "--warehouse", str(warehouse))
    assert result.returncode == 2
    where_ = f"liver-audit: {returned}: sheet {SHEET} row"
    assert result.stderr.strip().splitlines() == [
        f"{where_} 4: verdict must be one of {', '.join(VERDICTS)}",
        f"{where_} 5: its finding key was edited",
        f"{where_} 6: verdict must be one of {', '.join(VERDICTS)}",
        f"{where_} 7: a comment without a verdict: choose one from the list",
        f"{where_} 8: its finding key matches no current finding: the episode was re-delivered "
        "or re-assessed since (the verdict does not carry over), or the key is not from this "
        "warehouse",
    ]
    assert "2 verdict(s) read, 5 row(s) refused" in result.stdout
    assert verdicts(warehouse) == [
        (SHEET, 2, "coding error confirmed", "Y75.2 added"),
        (SHEET, 3, "documentation issue", None),
    ]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (reviewer,) = con.sql("select distinct reviewer from verdicts").fetchall()
        (kept,) = con.sql("select kept_copy from returned_worklists").fetchall()
    assert reviewer == ("A. Auditor",)
    assert open(kept[0], "rb").read() == returned.read_bytes()  # nothing the auditor wrote is lost

    again = liver_audit("review", str(returned), "--warehouse", str(warehouse))
    assert again.returncode == 0 and "read before" in again.stdout
    assert len(verdicts(warehouse)) == 2


def test_a_verdict_follows_its_episode_version(audited, tmp_path):
    """Re-delivered with a change, the episode's findings are new (no verdict); an unchanged
    episode keeps its verdict."""
    warehouse, worklist = audited
    workbook = openpyxl.load_workbook(worklist)
    sheet = workbook[SHEET]
    where = columns(sheet)
    ids = [sheet.cell(row, where["episode id"]).value for row in range(2, sheet.max_row + 1)]
    rows = [2, 2 + next(n for n, episode in enumerate(ids) if episode != ids[0])]
    episodes = [ids[row - 2] for row in rows]
    for row in rows:
        sheet.cell(row, where[VERDICT_HEADER]).value = "coding error confirmed"
    workbook.save(tmp_path / "returned.xlsx")
    assert liver_audit("review", str(tmp_path / "returned.xlsx"), "--warehouse",
                       str(warehouse)).returncode == 0  # fmt: skip
    # the first episode re-delivered with its first procedure date changed
    lines = (SAMPLE / "episodes.csv").read_text().splitlines()
    header = lines[0].split("|")
    changed = next(
        line for line in lines[1:] if line.split("|")[header.index("EPIKEY")] == episodes[0]
    )
    fields = changed.split("|")
    fields[header.index("OPDATE_01")] = "2025-12-31"
    redelivery = tmp_path / "redelivery.csv"
    redelivery.write_text("\n".join([lines[0], "|".join(fields)]) + "\n")
    result = liver_audit("run", str(redelivery), "--warehouse", str(warehouse),
                         "--out", str(tmp_path / "audit2"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        in_force = dict(
            con.execute(
                "select episode_id, verdict from standing_findings "
                "where rule_id = ? and episode_id in (?, ?)",
                [SHEET, *episodes],
            ).fetchall()
        )
    assert in_force == {episodes[0]: None, episodes[1]: "coding error confirmed"}
