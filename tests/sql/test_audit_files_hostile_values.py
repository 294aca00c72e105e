"""No value in a delivery stops the audit files or turns into a formula (issue 12, items 2, 5).

Values reach worklist.xlsx and the CSVs from the extract (episode id, provider code, a
quarantined field's value) and from the file's name. A control character (BEL, SOH, ESC)
cannot be held by a worksheet: it is shown as its control picture (U+2400 + code). Text a
spreadsheet would run as a formula (=, +, -, @ first) stays text: in the workbook a string
cell with Excel's quote prefix, in the CSVs a leading apostrophe (OWASP, CSV injection).
"""

import csv

import openpyxl
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liver_audit.assess import assess
from liver_audit.catalogue import load_catalogue
from liver_audit.config import default_settings
from liver_audit.outputs import build_summary, write_outputs
from liver_audit.warehouse import connect
from liver_audit.worklist import COLUMNS, write_worklist
from tests.examples import examples
from tests.tables import episode_extract, load, parse_table

# An episode needing action (J023 with a non-standard approach code) and a quarantined one, each with a
# hostile value; `\x07` is BEL, `\x1b` ESC. The file's name is hostile too.
EPISODES = r"""
| EPIKEY               | PROCODE3    | SEX | codes     |
| =HYPERLINK("x","y")  | R\x07XA     | 2   | J023 Y751 |
| @SUM(1)\x01          | +RXB        | 5   | J024      |
"""
FILE_NAME = '=HYPERLINK("x","click")\x1b.txt'


def hostile_rows() -> list[dict]:
    rows = parse_table(EPISODES)
    return [{k: v.encode().decode("unicode_escape") for k, v in row.items()} for row in rows]


def test_hostile_values_reach_the_audit_files_as_text(fresh_db, tmp_path):
    load(fresh_db, episode_extract(tmp_path / FILE_NAME, hostile_rows()))
    assess(fresh_db, "test-run")
    summary = build_summary(fresh_db, "test-run")
    out = tmp_path / "out"
    write_outputs(fresh_db, default_settings(), summary, out)

    workbook = openpyxl.load_workbook(out / "worklist.xlsx")
    flagged = workbook["liver_resection_approach"]
    assert flagged["A2"].value == "non_standard_approach_code"
    episode, provider = flagged["B2"], flagged["C2"]
    assert (episode.value, episode.data_type, episode.quotePrefix) == (
        '=HYPERLINK("x","y")', "s", True,
    )  # fmt: skip
    assert provider.value == "R\u2407XA"  # BEL shown as its control picture
    quarantined = {cell.column_letter: cell for cell in workbook["quarantine"][2]}
    assert quarantined["A"].value == '=HYPERLINK("x","click")\u241b.txt'
    assert quarantined["A"].quotePrefix and quarantined["A"].data_type == "s"
    assert quarantined["C"].value == "@SUM(1)\u2401" and quarantined["C"].quotePrefix

    with (out / "assessments.csv").open(newline="") as f:
        (row,) = [row for row in csv.DictReader(f) if row["rule_id"] == "liver_resection_approach"]
    assert row["episode_id"] == '\'=HYPERLINK("x","y")'
    assert row["provider_code"] == "R\x07XA"  # a CSV holds any character: kept as delivered
    with (out / "quarantine.csv").open(newline="") as f:
        (row,) = csv.DictReader(f)
    assert row["source_file"] == "'" + FILE_NAME and row["episode_id"] == "'@SUM(1)\x01"
    assert row["reason"] == "sex_invalid" and row["value"] == "5"


# Any text at all: control characters, non-characters, formula prefixes, long strings.
ANY_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(episode_id=ANY_TEXT, provider=ANY_TEXT, value=ANY_TEXT, file_name=ANY_TEXT)
def test_any_text_gives_a_worklist_that_opens(tmp_path_factory, episode_id, provider, value,
                                              file_name):  # fmt: skip
    """Whatever the text, the worklist is written and reads back: each value as it was,
    the characters a worksheet cannot hold as their pictures, never a formula."""
    assessments = pl.DataFrame(
        {column: [None] for _, column, _ in COLUMNS if column}
        | {"episode_id": [episode_id], "provider_code": [provider], "position": [1],
           "procedure_code": ["J023"], "outcome": ["missing_approach_code"],
           "rule_id": ["liver_resection_approach"], "needs_action": [True], "open": [True],
           "reviewed": [False], "in_compliant_sample": [False]},
    )  # fmt: skip
    quarantine = pl.DataFrame(
        {"source_file": [file_name], "source_row": [1], "episode_id": [episode_id],
         "reason": ["sex_invalid"], "field": ["SEX"], "value": [value]}
    )  # fmt: skip
    path = tmp_path_factory.mktemp("worklist") / "worklist.xlsx"
    with connect(":memory:") as con:
        con.register("findings", assessments)  # as report.select_position leaves it
        con.execute("create temp table position as select * from findings")
        write_worklist(con, quarantine, load_catalogue(), path)
    workbook = openpyxl.load_workbook(path)
    read = {cell.value for cell in workbook["quarantine"][2][:6]} | {
        workbook["liver_resection_approach"]["B2"].value,
        workbook["liver_resection_approach"]["C2"].value,
    }
    for text in (episode_id, provider, value, file_name):
        shown = text.translate(
            {c: 0x2400 + c for c in range(0x20) if c not in (9, 10, 13)}
            | {0xFFFE: 0xFFFD, 0xFFFF: 0xFFFD}
        )
        # openpyxl reads an empty string back as an empty cell; CR LF and CR come back as LF
        assert (shown or None) in read or shown.replace("\r\n", "\n").replace("\r", "\n") in read
    for sheet in workbook:
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
