"""worklist.xlsx: the coding auditor's worklist of the standing position: the rules, then a
sheet per rule of its open findings (needing action, no verdict yet: a finding reviewed leaves
the list), then the compliant sample (the share of compliant findings the setting
compliant_sample puts to the auditors), then the run's quarantine.

Each row is one finding with the episode's whole coded procedure list (the assessed code and
the codes found highlighted), the rule's one-line message, the codes expected and found, the
standard, a verdict drop-down, a comment, and the finding's hidden key, by which `liver-audit
review` reads the verdict back. Episode-level: keep inside the trust.
"""

from pathlib import Path

import duckdb
import polars as pl
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from liver_audit.review import (
    COMMENT_HEADER,
    KEY_HEADER,
    SAMPLE_VERDICTS,
    VERDICT_HEADER,
    VERDICTS,
)
from liver_audit.warehouse import sql

# Characters a worksheet cannot hold (XML 1.0: C0 controls but tab, CR, LF; U+FFFE, U+FFFF):
# openpyxl refuses them. Shown as their Unicode control pictures (BEL -> U+2407), so the
# auditor sees that something was there and the value can never stop the worklist.
UNWRITABLE = str.maketrans(
    {code: 0x2400 + code for code in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]}
    | {0xFFFE: 0xFFFD, 0xFFFF: 0xFFFD}
)
# A text cell starting so is a formula to a spreadsheet once edited, or, from openpyxl,
# at once ("="): written as text, with Excel's quote prefix (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

ASSESSED = InlineFont(b=True, color="B3261E")
QUALIFIER = InlineFont(b=True, color="005EB8")
HEADER_FILL = PatternFill("solid", fgColor="F2F5F7")

COLUMNS = [
    # (header, assessment column or None for computed/empty, width)
    ("outcome", "outcome", 26),
    ("episode id", "episode_id", 16),
    ("provider", "provider_code", 10),
    ("admission", "admission_date", 12),
    ("episode start", "episode_start_date", 13),
    ("episode end", "episode_end_date", 12),
    ("coded procedures (position code)", None, 48),
    ("assessed position", "position", 10),
    ("assessed code", "procedure_code", 10),
    ("finding", "message", 60),
    ("codes expected", "expected_codes", 14),
    ("codes found", "found_codes", 14),
    ("standard", "standard", 14),
    ("OPCS version", "opcs_version", 11),
    ("severity", "severity", 9),
    (VERDICT_HEADER, None, 24),
    (COMMENT_HEADER, None, 40),
    # hidden: the finding's key, by which `liver-audit review` reads the verdict back
    (KEY_HEADER, "finding_key", 22),
]
SAMPLE_COLUMNS = [("rule", "rule_id", 30), *COLUMNS]
SAMPLE_SHEET = "compliant sample"
RULE_COLUMNS = [
    ("rule", "rule_id", 34),
    ("sheet", "sheet", 32),
    ("what it checks", "checks", 70),
    ("standards", "standards", 20),
    ("assessed", "assessed", 10),
    ("needing action", "needing_action", 10),
    ("open (to review)", "open", 10),
    ("reviewed", "reviewed", 10),
    ("compliant sample", "in_compliant_sample", 10),
]
QUARANTINE_COLUMNS = [
    ("source file", "source_file", 24),
    ("source row", "source_row", 10),
    ("episode id", "episode_id", 16),
    ("reason", "reason", 34),
    ("field", "field", 18),
    ("value", "value", 18),
    ("auditor verdict", None, 16),
    ("auditor comment", None, 40),
]


def procedure_lists(con: duckdb.DuckDBPyConnection, episode_ids: list[str]) -> dict[str, list]:
    """Episode -> its coded procedures [(position, code)] in position order."""
    if not episode_ids:
        return {}
    con.register("worklist_episodes", pl.DataFrame({"episode_id": episode_ids}))
    rows = con.sql(sql("audit_files/procedure_lists")).fetchall()
    con.unregister("worklist_episodes")
    return {episode_id: [tuple(p) for p in coded] for episode_id, coded in rows}


def highlighted_procedures(coded: list, position: int, found_codes: str | None) -> CellRichText:
    """'1 J023 · 2 Y752 · 3 T201' with the assessed code, and the codes found after it in
    its run, in colour."""
    found = set((found_codes or "").split())
    index = next((i for i, (p, _) in enumerate(coded) if p == position), None)
    parts = []
    for i, (pos, code) in enumerate(coded):
        text = f"{pos} {code}"
        if i == index:
            parts.append(TextBlock(ASSESSED, text))
        elif index is not None and i > index and code in found:
            parts.append(TextBlock(QUALIFIER, text))
        else:
            parts.append(text)
        if i < len(coded) - 1:
            parts.append(" · ")
    return CellRichText(parts)


def sheet_names(rule_ids: list[str]) -> dict[str, str]:
    """A worksheet name per rule: its id, cut to Excel's 31 characters, made unique."""
    names: dict[str, str] = {}
    for rule_id in rule_ids:
        name, number = rule_id[:31], 2
        while name in names.values() or name in ("quarantine", "rules", SAMPLE_SHEET):
            name, number = f"{rule_id[: 31 - len(str(number)) - 1]}~{number}", number + 1
        names[rule_id] = name
    return names


def _sheet(workbook: Workbook, title: str, columns: list[tuple]) -> object:
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([header for header, _, _ in columns])
    for number, (_, _, width) in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=number)
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(number)].width = width
    sheet.freeze_panes = "A2"
    return sheet


def _append(sheet, values: list) -> None:
    """A row of values as they are: text never becomes a formula or breaks the file. (Each
    cell made here: finding the row just appended, sheet[sheet.max_row], scans every cell,
    which made a sheet of 100,000 quarantined rows take hours.)"""
    cells = []
    for value in values:
        value = value.translate(UNWRITABLE) if isinstance(value, str) else value
        if isinstance(value, str) and value.startswith(FORMULA_START):
            value = Cell(sheet, value=value)
            value.data_type, value.quotePrefix = "s", True
        cells.append(value)
    sheet.append(cells)


def _finish(sheet, columns: list[tuple], rows: int) -> None:
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{rows + 1}"


def verdict_choices(sheet, columns: list[tuple], rows: int, verdicts: list[str]) -> None:
    """The verdict column a drop-down of the `verdicts` review.py reads; the key column
    hidden (and kept: a row whose key is edited is refused on review)."""
    headers = [header for header, _, _ in columns]
    verdict = get_column_letter(headers.index(VERDICT_HEADER) + 1)
    key = get_column_letter(headers.index(KEY_HEADER) + 1)
    choices = DataValidation(
        type="list",
        formula1='"' + ",".join(verdicts) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Verdict",
        error="Choose one of the verdicts in the list.",
    )
    sheet.add_data_validation(choices)
    choices.add(f"{verdict}2:{verdict}{max(rows, 1) + 1}")
    sheet.column_dimensions[key].hidden = True


def write_worklist(
    con: duckdb.DuckDBPyConnection, quarantine: pl.DataFrame | None, catalogue, path: Path
) -> None:
    """Write the worklist of the report's position (the temp table `position`,
    report.select_position): the rules sheet, a sheet per rule of its open findings (by
    outcome in the rule's order, then episode and position), the compliant sample, then the
    run's quarantine (none for a narrowed position: a quarantined row's provider and dates
    may be the very values that failed)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    to_review = con.sql("select * from position where open").pl()
    sample = con.sql(
        "select * from position where in_compliant_sample order by rule_id, episode_id, position"
    ).pl()
    counts = {
        row["rule_id"]: row
        for row in con.sql(sql("reports/position_by_rule")).pl().iter_rows(named=True)
    }
    coded = procedure_lists(
        con, pl.concat([to_review["episode_id"], sample["episode_id"]]).unique().to_list()
    )
    names = sheet_names([rule.id for rule in catalogue.rules])
    sheet = _sheet(workbook, "rules", RULE_COLUMNS)
    for rule in catalogue.rules:
        values = dict.fromkeys(["assessed", "needing_action", "open", "reviewed",
                                "in_compliant_sample"], 0) | counts.get(rule.id, {}) | {
            "rule_id": rule.id, "sheet": names[rule.id], "checks": rule.checks,
            "standards": rule.citation}  # fmt: skip
        _append(sheet, [values[column] for _, column, _ in RULE_COLUMNS])
    _finish(sheet, RULE_COLUMNS, len(catalogue.rules))
    for rule in catalogue.rules:
        order = {outcome: rank for rank, outcome in enumerate(rule.needs_action)}
        rows = (
            to_review.filter(pl.col("rule_id") == rule.id)
            .with_columns(rank=pl.col("outcome").replace_strict(order, default=len(order)))
            .sort("rank", "episode_id", "position")
        )
        findings_sheet(workbook, names[rule.id], COLUMNS, rows, coded, VERDICTS)
    findings_sheet(workbook, SAMPLE_SHEET, SAMPLE_COLUMNS, sample, coded, SAMPLE_VERDICTS)
    if quarantine is not None:
        sheet = _sheet(workbook, "quarantine", QUARANTINE_COLUMNS)
        for row in quarantine.iter_rows(named=True):
            _append(sheet, [row[c] if c else None for _, c, _ in QUARANTINE_COLUMNS])
        _finish(sheet, QUARANTINE_COLUMNS, quarantine.height)
    workbook.save(path)


def findings_sheet(
    workbook: Workbook,
    title: str,
    columns: list[tuple],
    rows: pl.DataFrame,
    coded: dict,
    verdicts: list[str],
) -> None:
    """A sheet of findings, one per row, with a drop-down of `verdicts` for each."""
    sheet = _sheet(workbook, title, columns)
    for row in rows.iter_rows(named=True):
        values = []
        for header, column, _ in columns:
            if column:
                values.append(row[column])
            elif header.startswith("coded procedures"):
                values.append(
                    highlighted_procedures(
                        coded.get(row["episode_id"], []), row["position"], row["found_codes"]
                    )
                )
            else:
                values.append(None)
        _append(sheet, values)
    _finish(sheet, columns, rows.height)
    verdict_choices(sheet, columns, rows.height, verdicts)
