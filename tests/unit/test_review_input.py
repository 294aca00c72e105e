"""A returned worklist is outside input: whatever an auditor (or anyone) typed in its cells,
`review` loads each row or refuses it in one line naming its sheet and row, never a value."""

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liver_audit.review import COMMENT_HEADER, KEY_HEADER, VERDICT_HEADER, VERDICTS, review
from liver_audit.warehouse import connect

# Text a worksheet can hold (openpyxl refuses most control characters).
CELL = st.one_of(
    st.none(),
    st.sampled_from(VERDICTS),
    st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=30),
    st.from_regex(r"[0-9a-f]{16}-[0-9a-f]{4}", fullmatch=True),
)
ROW = st.tuples(CELL, CELL, CELL)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(ROW, max_size=8))
def test_any_cells_load_or_are_refused_in_one_line(tmp_path, rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "some_rule"
    sheet.append(["outcome", VERDICT_HEADER, COMMENT_HEADER, KEY_HEADER])
    for verdict, comment, key in rows:
        sheet.append(["x", verdict, comment, key])
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
