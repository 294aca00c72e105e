"""Every rule's cases (rules/<id>/cases.md), and the shape every rule folder must have."""

import pytest

from liver_audit.catalogue import load_catalogue
from tests.rules.cases import case_outcomes, expected_outcomes, standard_ids

CATALOGUE = load_catalogue()
CASES = [(rule, case) for rule in CATALOGUE.rules for case in rule.cases]


@pytest.mark.parametrize(
    ("rule", "case"), CASES, ids=[f"{rule.id}: {case['case']}" for rule, case in CASES]
)
def test_rule_case(fresh_db, rule, case):
    assert case_outcomes(fresh_db, case, rule.id) == expected_outcomes(case)
    # the standard the case follows is one the rule enforces, and one its findings cite
    cited = fresh_db.execute(
        "select standard from assessments where rule_id = ?", [rule.id]
    ).fetchall()
    assert standard_ids(case["standard"]) <= {standard["id"] for standard in rule.standards}
    if cited:
        assert standard_ids(case["standard"]) <= {i for (s,) in cited for i in standard_ids(s)}


@pytest.mark.parametrize("rule", CATALOGUE.rules, ids=[rule.id for rule in CATALOGUE.rules])
def test_rule_folder_is_complete(rule):
    """A citation; cases for every outcome it declares, and none it does not; each case
    names the standard it follows."""
    assert rule.title and rule.checks and rule.standards
    for standard in rule.standards:
        assert standard["document"] and (standard.get("url") or standard.get("page"))
    declared = {outcome.outcome for outcome in rule.outcomes}
    covered = {outcome for case in rule.cases for outcome in expected_outcomes(case)}
    assert covered == declared
    assert all(case["standard"] not in ("", ".") for case in rule.cases)
    assert any(outcome.severity == "pass" for outcome in rule.outcomes)
