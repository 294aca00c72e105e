"""A rule whose query is wrong is named in one line (rule, column, reason), never a
traceback and never a row value: the run says which folder to fix."""

import shutil

import pytest

from liver_audit.catalogue import RULES_DIR
from liver_audit.config import default_settings
from liver_audit.errors import StageFailed
from liver_audit.warehouse import connect, load_reference_tables
from tests.rules.cases import case_outcomes

RULE = "subsidiary_code_in_primary_position"
CASE = {"codes": "Y75.2 J02.3", "theatre": ".", "date": "."}


@pytest.mark.parametrize(
    ("original", "broken", "error"),
    [
        ("null::varchar as standard,", "null::varchar as standard,", None),  # the copy runs
        ("then 'subsidiary_code_in_primary_position' else 'compliant'",
         "then 'not_a_declared_outcome' else 'compliant'",
         f"rule {RULE}: its query gave outcome(s) not in its rule.toml: not_a_declared_outcome"),
        ("then 'subsidiary_code_in_primary_position' else 'compliant'",
         "then first_code else 'compliant'",
         f"rule {RULE}: its query gave outcome(s) not in its rule.toml: "
         "1 not written in its query"),  # Y752, from the data: not shown
        ("first_position as position,", "first_positon as position,",
         f"rule {RULE}: its query does not run: Binder Error: Referenced column "
         '"first_positon" not found in FROM clause!'),
        ("first_code as procedure_code,", "lower(first_code) as procedure_code,",
         f"rule {RULE}: its findings do not fit schemas/assessments.py Finding: "
         "column procedure_code: dataframe_check"),
        ("select * from final", "select * from final union all select * from final",
         f"rule {RULE}: its findings do not fit schemas/assessments.py Finding: "
         "two findings share an episode and position"),
        ("null::varchar as standard,", "(select error('boom')) as standard,",
         f"rule {RULE}: its query failed: InvalidInputException"),
    ],
)  # fmt: skip
def test_a_broken_rule_is_named_in_one_line(tmp_path, original, broken, error):
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    query = rules / RULE / "query.sql"
    assert original in query.read_text()
    query.write_text(query.read_text().replace(original, broken))
    con = connect(":memory:")
    load_reference_tables(con, default_settings(rules=rules))
    if error is None:
        assert case_outcomes(con, CASE, RULE) == ["subsidiary_code_in_primary_position"]
    else:
        with pytest.raises(StageFailed) as raised:
            case_outcomes(con, CASE, RULE)
        assert str(raised.value) == error
    con.close()
