"""Adding a rule means adding a folder and nothing else (issue 13): a throwaway rule, written
here, in a copy of rules/, reaches the warehouse, assessments.csv, summary.json, report.html,
the worklist, the shareable summary and `liver-audit rules`, with outcome names no code knows."""

import csv
import json
import shutil

import duckdb
import openpyxl
import pytest

from liver_audit.catalogue import RULES_DIR, load_catalogue
from liver_audit.config import default_settings
from liver_audit.warehouse import connect, load_reference_tables
from tests.conftest import SAMPLE
from tests.rules.cases import case_outcomes, expected_outcomes
from tests.test_cli import liver_audit

pytestmark = pytest.mark.slow

RULE = "resection_with_cholecystectomy"
DEFINITION = """
id = "resection_with_cholecystectomy"
title = "A liver resection with a cholecystectomy on the same episode"
checks = "Flags each J02.3/J02.4 whose episode also codes a cholecystectomy (J18.3), for review."
opcs_versions = ["OPCS-4.10", "OPCS-4.11"]

[[standards]]
id = "TEAM-1"
document = "A throwaway rule written by a test"
url = "https://example.org/throwaway"

[code_lists]
assessed = ["J023", "J024"]
flagged = ["J183"]

[[outcomes]]
outcome = "no_gallbladder_op"
severity = "pass"
needs_action = false
description = "No cholecystectomy coded on the episode."

[[outcomes]]
outcome = "gallbladder_op_too"
severity = "warning"
needs_action = true
description = "A cholecystectomy is coded on the same episode: check it was done."
"""
QUERY = """
select
    resection.episode_id,
    resection.position,
    resection.procedure_code,
    case when exists (
        select 1 from procedures_to_assess as other
        where other.episode_id = resection.episode_id and other.procedure_code in (
            select code from rule_codes where rule_id = $rule_id and list = 'flagged'
        )
    ) then 'gallbladder_op_too' else 'no_gallbladder_op' end as outcome,
    null as expected_codes,
    null as found_codes,
    'a throwaway finding' as message,
    null as standard,
from procedures_to_assess as resection
where resection.procedure_code in (
    select code from rule_codes where rule_id = $rule_id and list = 'assessed'
)
"""
CASES = """
| case | codes | theatre | date | outcomes | standard |
|---|---|---|---|---|---|
| resection alone | J02.3 Y75.2 | . | . | no_gallbladder_op | TEAM-1 |
| with cholecystectomy | J02.3 Y75.2 J18.3 | . | . | gallbladder_op_too | TEAM-1 |
"""


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    folder = tmp_path_factory.mktemp("catalogue") / "rules"
    shutil.copytree(RULES_DIR, folder)
    (folder / RULE).mkdir()
    for name, text in {"rule.toml": DEFINITION, "query.sql": QUERY, "cases.md": CASES}.items():
        (folder / RULE / name).write_text(text)
    return folder


@pytest.fixture(scope="module")
def run(rules, tmp_path_factory):
    work = tmp_path_factory.mktemp("run")
    result = liver_audit(
        "run", str(SAMPLE / "episodes.csv"), "--theatre", str(SAMPLE / "theatre.csv"),
        "--rules", str(rules), "--warehouse", str(work / "warehouse.duckdb"),
        "--out", str(work / "audit"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return work


def test_it_reaches_the_warehouse(run):
    with duckdb.connect(str(run / "warehouse.duckdb"), read_only=True) as con:
        found = dict(
            con.execute(
                "select outcome, count(*) from assessments where rule_id = ? group by all", [RULE]
            ).fetchall()
        )
    # the sample's J018.3 episodes carry a J02.3/J02.4 (data/sample/README.md): rows 22, 26, 28
    assert found["gallbladder_op_too"] > 0 and found["no_gallbladder_op"] > 0


def test_it_reaches_assessments_csv_and_the_summary(run):
    with (run / "audit" / "assessments.csv").open(newline="") as file:
        outcomes = {row["outcome"] for row in csv.DictReader(file) if row["rule_id"] == RULE}
    assert outcomes == {"gallbladder_op_too", "no_gallbladder_op"}
    summary = json.loads((run / "audit" / "summary.json").read_text())
    (rule,) = [rule for rule in summary["rules"] if rule["rule_id"] == RULE]
    assert [o["outcome"] for o in rule["outcomes"]] == ["no_gallbladder_op", "gallbladder_op_too"]
    assert rule["needing_action"] == rule["outcomes"][1]["findings"] > 0


def test_it_reaches_the_report_worklist_and_shareable_summary(run):
    html = (run / "audit" / "report.html").read_text()
    assert f'id="rule-{RULE}"' in html and "gallbladder op too" in html
    assert "A throwaway rule written by a test" in html and "with cholecystectomy" in html
    workbook = openpyxl.load_workbook(run / "audit" / "worklist.xlsx")
    assert RULE[:31] in workbook.sheetnames
    sheet = workbook[RULE[:31]]
    assert sheet.max_row > 1 and sheet["A2"].value == "gallbladder_op_too"
    with (run / "audit" / "summary_shareable.csv").open(newline="") as file:
        assert RULE in {row["rule_id"] for row in csv.DictReader(file)}


def test_it_is_listed_by_liver_audit_rules(rules):
    result = liver_audit("rules", "--rules", str(rules), "--cases")
    assert result.returncode == 0, result.stderr
    assert f"{RULE}: A liver resection with a cholecystectomy" in result.stdout
    assert "gallbladder_op_too" in result.stdout and "J02.3 Y75.2 J18.3" in result.stdout


def test_its_cases_run_as_every_rule_s_do(rules):
    (rule,) = [rule for rule in load_catalogue(rules).rules if rule.id == RULE]
    assert [case["case"] for case in rule.cases] == ["resection alone", "with cholecystectomy"]
    for case in rule.cases:
        con = connect(":memory:")
        load_reference_tables(con, default_settings(rules=rules))
        assert case_outcomes(con, case, RULE) == expected_outcomes(case)
        con.close()
