"""The report and worklist show where the trust stands (issue 14, part 1): a second run with
one changed episode reports the whole position, and lists exactly that episode under what
changed; verdicts returned to the inbox leave the worklist and show in the report; a run
with nothing new writes nothing and the index points to the latest report."""

import re
from pathlib import Path

import duckdb
import openpyxl
import pytest

from liver_audit.review import SAMPLE_VERDICTS, VERDICT_HEADER
from liver_audit.worklist import SAMPLE_SHEET
from tests.conftest import SAMPLE
from tests.test_cli import liver_audit

pytestmark = pytest.mark.slow  # eleven runs of the command: make test-all and CI

RULE = "liver_resection_approach"
# J02.3 with Y53.2 and no approach code, documented laparoscopic: missing_approach_code.
# Re-coded with Y75.2 directly after the J02.3, it is compliant.
CHANGED = "100234567805"
RECODED = {"OPERTN_4_02": "Y752", "OPDATE_02": "2025-07-01", "OPERTN_4_03": "Y532",
           "OPDATE_03": "2025-07-01", "OPERTN_COUNT": "3.0"}  # fmt: skip


def redelivery(folder: Path, recoded: dict = RECODED) -> Path:
    """The sample's episodes again, with CHANGED re-coded (every other row as it was)."""
    lines = (SAMPLE / "episodes.csv").read_text().splitlines()
    header = lines[0].split("|")
    out = [lines[0]]
    for line in lines[1:]:
        fields = line.split("|")
        if fields[0] == CHANGED:
            for name, value in recoded.items():
                fields[header.index(name)] = value
        out.append("|".join(fields))
    path = folder / f"episodes-redelivered-{len(list(folder.glob('episodes-*')))}.csv"
    path.write_text("\n".join(out) + "\n")
    return path


def run(tmp_path: Path, *args: str) -> Path | None:
    """liver-audit run into tmp_path's warehouse and reports; the run's folder, if any."""
    before = set((tmp_path / "reports").glob("2*"))
    result = liver_audit(
        "run", *args, "--warehouse", str(tmp_path / "warehouse.duckdb"),
        "--reports", str(tmp_path / "reports"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (folder,) = set((tmp_path / "reports").glob("2*")) - before or [None]
    return folder


def section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}">')
    return html[start : html.index("</section>", start)]


def rule_row(html: str, title: str) -> list[str]:
    """The Rules table's cells of one rule: title, assessed, compliant, needing action,
    open, reviewed, confirmed (tags stripped)."""
    row = re.search(rf"<tr><td><a [^>]*>{re.escape(title)}</a></td>(.*?)</tr>", html, re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", cell).split())
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]  # fmt: skip


def sheet_rows(worklist: Path, sheet: str) -> list[dict]:
    rows = openpyxl.load_workbook(worklist)[sheet].iter_rows(values_only=True)
    header = next(rows)
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.fixture
def two_runs(tmp_path):
    first = run(tmp_path, str(SAMPLE / "episodes.csv"), "--theatre", str(SAMPLE / "theatre.csv"))
    second = run(tmp_path, str(redelivery(tmp_path)))
    return first, second


def test_a_second_run_reports_the_whole_position_and_what_changed(two_runs, tmp_path):
    first, second = two_runs
    html = (second / "report.html").read_text()
    changes = section(html, "changes")
    # exactly the changed episode, resolved by re-coding
    assert set(re.findall(r"\b\d{12}\b", changes)) == {CHANGED}
    assert re.search(rf"<td>{CHANGED}</td><td>resolved</td><td>compliant</td>"
                     r"<td>missing approach code</td>", changes)  # fmt: skip
    # the re-delivery's bad rows are quarantined again, and said to be the same as before:
    # all but the one with no episode id, which cannot be told from another
    assert "11 of the 12\nwere quarantined before" in changes
    # the whole position: every finding the warehouse holds, one fewer needing action
    title = "Liver resection carries the approach code of its access"
    before, after = rule_row((first / "report.html").read_text(), title), rule_row(html, title)
    assert after[0] == before[0] == "49"
    assert (int(before[2]), int(after[2])) == (18, 17)
    assert after[3] == "17"  # open: none reviewed yet
    # the worklist: every open finding but the resolved one
    listed = {
        (r["episode id"], r["assessed position"]) for r in sheet_rows(first / "worklist.xlsx", RULE)
    }
    now = {
        (r["episode id"], r["assessed position"])
        for r in sheet_rows(second / "worklist.xlsx", RULE)
    }
    assert now == {row for row in listed if row[0] != CHANGED} and len(now) == 17
    # the index lists both runs' reports, newest first, and points to the latest
    index = (tmp_path / "reports" / "index.html").read_text()
    links = re.findall(r'href="([^"]+)/report.html">report<', index)
    assert links == [second.name, first.name]
    assert f'<a href="{second.name}/report.html">the report of run\n{second.name}</a>' in index


def test_a_run_with_nothing_new_writes_nothing_and_the_index_says_so(two_runs, tmp_path):
    _, second = two_runs
    assert run(tmp_path, str(redelivery(tmp_path))) is None  # loaded before: skipped
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        (third,) = con.sql("select max(run_id) from runs").fetchall()[0]
    index = (tmp_path / "reports" / "index.html").read_text()
    assert re.search(rf"<tr><td>{third}</td>.*?<td>nothing new</td></tr>", index, re.S)
    assert "the runs since wrote\nno report" in index
    assert f'<a href="{second.name}/report.html">the report of run\n{second.name}</a>' in index


def test_verdicts_returned_to_the_inbox_leave_the_worklist(two_runs, tmp_path):
    _, second = two_runs
    worklist = openpyxl.load_workbook(second / "worklist.xlsx")
    rule_sheet, sample = worklist[RULE], worklist[SAMPLE_SHEET]
    verdict = {c.value: c.column for c in rule_sheet[1]}[VERDICT_HEADER]
    rule_sheet.cell(2, verdict).value = "coding error confirmed"
    rule_sheet.cell(3, verdict).value = "finding not correct"
    assert sample.max_row >= 2, "the compliant sample is empty"
    sample.cell(2, {c.value: c.column for c in sample[1]}[VERDICT_HEADER]).value = SAMPLE_VERDICTS[
        0
    ]
    reviewed = {rule_sheet.cell(row, 2).value for row in (2, 3)}
    inbox = tmp_path / "inbox"
    (inbox / "returned").mkdir(parents=True)
    worklist.save(inbox / "returned" / "worklist-reviewed.xlsx")
    (inbox / "returned" / "broken.xlsx").write_bytes(b"not a workbook")  # refused; night goes on

    third = run(tmp_path, "--inbox", str(inbox))
    assert third is not None, "verdicts read: the position changed, so the run reports it"
    html = (third / "report.html").read_text()
    title = "Liver resection carries the approach code of its access"
    assert rule_row(html, title)[3:] == ["15", "2", "50.0% of 2"]  # open, reviewed, confirmed
    still_open = {r["episode id"] for r in sheet_rows(third / "worklist.xlsx", RULE)}
    assert len(still_open) == 15 and not still_open & reviewed
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        precision = con.sql(
            "select findings_reviewed, findings_confirmed, coder_errors, findings_not_correct, "
            "compliant_reviewed, compliant_confirmed from rule_precision where rule_id = ?",
            params=[RULE],
        ).fetchall()
        sampled_rule = con.sql(
            "select rule_id from verdicts where verdict = ?", params=[SAMPLE_VERDICTS[0]]
        ).fetchall()[0][0]
    assert precision == [(2, 1, 1, 1, int(sampled_rule == RULE), int(sampled_rule == RULE))]
    history = liver_audit("history", "--warehouse", str(tmp_path / "warehouse.duckdb"))
    (line,) = [line for line in history.stdout.splitlines() if line.startswith(RULE)]
    assert line.split()[1:6] == ["2", "50.0%", "1", "0", "1"]  # reviewed, confirmed, split
    # the same file again changes nothing: nothing new to report
    assert run(tmp_path, "--inbox", str(inbox)) is None


def test_report_narrows_the_position_and_writes_nothing_to_the_warehouse(two_runs, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    before = warehouse.read_bytes()
    out = tmp_path / "rxa"
    result = liver_audit(
        "report", "--warehouse", str(warehouse), "--out", str(out), "--provider", "RXA",
        "--financial-year", "2025-26",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert warehouse.read_bytes() == before
    html = (out / "report.html").read_text()
    assert "only those ending in financial year 2025-26, of provider RXA" in html
    rows = sheet_rows(out / "worklist.xlsx", RULE)
    assert rows and {r["provider"] for r in rows} == {"RXA"}
    assert all("2025-04-01" <= str(r["episode end"])[:10] <= "2026-03-31" for r in rows)
    everyone = sheet_rows(tmp_path / "reports" / sorted(
        p.name for p in (tmp_path / "reports").glob("2*"))[-1] / "worklist.xlsx", RULE)  # fmt: skip
    assert len(rows) < len(everyone)
    # what the latest run changed, narrowed too: the re-coded episode is RXC's
    assert CHANGED not in section(html, "changes")
    assert "quarantine" not in openpyxl.load_workbook(out / "worklist.xlsx").sheetnames
    rxc = tmp_path / "rxc"
    assert liver_audit("report", "--warehouse", str(warehouse), "--out", str(rxc),
                       "--provider", "RXC").returncode == 0  # fmt: skip
    assert CHANGED in section((rxc / "report.html").read_text(), "changes")
    shareable = (out / "summary_shareable.csv").read_text().splitlines()[1:]
    assert shareable and all(",2025-26" in line and (",RXA," in line or ",all providers," in line)
                             for line in shareable)  # fmt: skip


def test_an_episode_re_delivered_without_its_liver_procedure_shows_what_changed(tmp_path):
    """Re-coded with no liver procedure, the episode has no findings now: its finding
    needing action before is resolved, though this run assessed nothing of it."""
    run(tmp_path, str(SAMPLE / "episodes.csv"), "--theatre", str(SAMPLE / "theatre.csv"))
    second = run(tmp_path, str(redelivery(tmp_path, {"OPERTN_4_01": "T201"})))
    changes = section((second / "report.html").read_text(), "changes")
    assert set(re.findall(r"\b\d{12}\b", changes)) == {CHANGED}
    assert re.search(rf"<td>{CHANGED}</td><td>resolved</td><td></td>"
                     r"<td>missing approach code</td>", changes)  # fmt: skip
