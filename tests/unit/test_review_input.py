"""A returned worklist is outside input: whatever an auditor (or anyone) typed in its cells,
`review` loads each row or refuses it in one line naming its sheet and row, never a value."""

import openpyxl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from liver_audit.review import (
    COMMENT_HEADER,
    KEY_HEADER,
    SAMPLE_VERDICTS,
    VERDICT_HEADER,
    VERDICTS,
    review,
)
from liver_audit.warehouse import connect
from tests.examples import examples

# Text a worksheet can hold (openpyxl refuses most control characters).
CELL = st.one_of(
    st.none(),
    st.sampled_from(VERDICTS),
    st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=30),
    st.from_regex(r"[0-9a-f]{16}-[0-9a-f]{4}", fullmatch=True),
)
ROW = st.tuples(CELL, CELL, CELL)


@settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(rows=st.lists(ROW, max_size=8))
def test_any_cells_load_or_are_refused_in_one_line(tmp_path, rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "some_rule"
    sheet.append(["outcome", VERDICT_HEADER, COMMENT_HEADER, KEY_HEADER])
    for verdict, comment, key in rows:
        sheet.append(["x", verdict, comment, key])
    typed_as_text(sheet)
    path = tmp_path / "returned.xlsx"
    workbook.save(path)
    con = connect(":memory:")
    loaded, refused = review(con, path, "tester")
    con.close()
    answered = [r for r in rows if (r[0] or "").strip() or (r[1] or "").strip()]
    # no finding exists in an empty warehouse: every answered row is refused, none loads
    assert loaded == 0 and len(refused) == len(answered)
    for line in refused:
        assert "\n" not in line and line.startswith(f"{path}: sheet some_rule row ")
        values = {str(v).strip() for r in rows for v in r if v is not None and str(v).strip()}
        reason = line.split(": ", 3)[-1]
        assert not any(len(v) > 3 and v in reason for v in values - set(VERDICTS))


@settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@example(cells=[(None, "=0")])  # a comment openpyxl would write as a formula
@given(cells=st.lists(st.tuples(st.one_of(CELL, st.sampled_from(SAMPLE_VERDICTS)), CELL),
                      min_size=1, max_size=6))  # fmt: skip
def test_any_verdict_or_comment_on_a_real_finding_loads_or_is_refused(tmp_path, cells):
    """With the keys of real findings (half needing action, half compliant), whatever the
    verdict and comment cells hold: a row loads exactly when its verdict is one of its
    finding's list; any other answered row is refused in one line; nothing fails."""
    con = connect(":memory:")
    con.execute("insert into input_files (file_id, run_id, file_kind, file_name) "
                "values (1, 'r0', 'episode_extract', 'f')")  # fmt: skip
    con.execute("insert into episodes (episode_id, file_id, version_hash) "
                "select i::varchar, 1, hash(i) from range(6) t(i)")  # fmt: skip
    con.execute(
        "insert into assessments (run_id, rule_id, episode_id, position, procedure_code, "
        "outcome, severity, needs_action) select 'r1', 'liver_resection_approach', i::varchar, "
        "1, 'J023', if(i % 2 = 0, 'missing_approach_code', 'compliant'), "
        "if(i % 2 = 0, 'error', 'pass'), i % 2 = 0 from range(6) t(i)"
    )
    keys = con.sql(
        "select finding_key, severity from standing_findings order by episode_id"
    ).fetchall()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["outcome", VERDICT_HEADER, COMMENT_HEADER, KEY_HEADER])
    for (verdict, comment), (key, _) in zip(cells, keys, strict=False):
        sheet.append(["x", verdict, comment, key])
    typed_as_text(sheet)
    path = tmp_path / "returned.xlsx"
    workbook.save(path)
    loaded, refused = review(con, path, "tester")
    con.close()
    answered = valid = 0
    for (verdict, comment), (_, severity) in zip(cells, keys, strict=False):
        verdict, comment = (verdict or "").strip(), (comment or "").strip()
        answered += bool(verdict or comment)
        valid += verdict in (SAMPLE_VERDICTS if severity == "pass" else VERDICTS)
    assert (loaded, len(refused)) == (valid, answered - valid)
    assert all("\n" not in line for line in refused)


def typed_as_text(sheet) -> None:
    """Cells whose text starts with = as an auditor's typed text, as Excel keeps it (openpyxl
    would write them as formulas, which a returned worklist's cells are not: hypothesis found
    `=0`, a comment that read back as no comment)."""
    for cell in (c for row in sheet.iter_rows(min_row=2) for c in row):
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"
