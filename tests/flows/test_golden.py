"""The golden end-to-end run: the real Prefect flow on data/sample/ (see its README).

To accept a deliberate change of output: UPDATE_GOLDEN=1 make test, then review the diff.
"""

import json
import os
import re

import pytest

from flows.audit import audit_run
from liver_audit.catalogue import load_catalogue
from liver_audit.config import default_settings
from tests.conftest import SAMPLE

GOLDEN = SAMPLE.parent.parent / "tests" / "golden"
DETERMINISTIC_FILES = ["assessments.csv", "quarantine.csv", "summary.json", "summary_shareable.csv"]


@pytest.fixture(scope="module")
def sample_run(prefect_harness, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    summary = audit_run(
        default_settings(warehouse=str(out / "warehouse.duckdb")),
        extracts=[str(SAMPLE / "episodes.csv")],
        theatre=str(SAMPLE / "theatre.csv"),
        out_dir=str(out / "audit"),
        run_id="golden-run",
    )
    return summary, out / "audit"


@pytest.mark.parametrize("name", DETERMINISTIC_FILES)
def test_outputs_match_golden_files(sample_run, name):
    _, out = sample_run
    produced = (out / name).read_text()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        (GOLDEN / name).write_text(produced)
    assert produced == (GOLDEN / name).read_text()


def test_counts_match_the_sample_readme(sample_run):
    """The totals the sample's README promises, row by row."""
    summary, _ = sample_run
    files = {f["file_name"]: f for f in summary["files"]}
    assert [files["episodes.csv"][k] for k in ("rows_read", "rows_loaded", "rows_quarantined")] == [
        86,
        74,
        12,
    ]
    assert [files["theatre.csv"][k] for k in ("rows_read", "rows_loaded", "rows_quarantined")] == [
        34,
        32,
        2,
    ]
    assert outcome_counts(summary) == {
        "liver_resection_approach": {
            "compliant": 27, "conflicting_approach_codes": 1, "wrong_approach_code": 5,
            "misplaced_approach_code": 6, "missing_approach_code": 3,
            "non_standard_approach_code": 2, "approach_code_not_in_force": 1,
            "open_procedure": 4,
        },
        "approach_code_directly_after": {"compliant": 34, "approach_code_not_directly_after": 3},
        "subsidiary_code_in_primary_position": {
            "compliant": 69, "subsidiary_code_in_primary_position": 1,
        },
        "opcs_code_in_force": {
            "code_in_force": 155, "code_retired": 1, "code_not_yet_in_force": 1,
            "code_not_in_reference": 1,
        },
        "icd10_code_in_force": {
            "code_in_force": 110, "diagnosis_not_known": 1, "code_not_in_reference": 1,
        },
        # rows 65-86, one rule's outcome each (data/sample/README.md)
        "liver_indication_coded": {"liver_indication_coded": 61, "no_liver_indication_coded": 2},
        "percutaneous_ablation_image_control": {
            "compliant": 1, "image_control_type_unspecified": 1,
            "image_control_not_directly_after": 1, "image_control_missing": 1,
        },
        "open_liver_ablation_method": {
            "compliant": 1, "laparoscopic_microwave_ablation": 1, "microwave_organ_code": 1,
            "other_destruction_method": 1, "destruction_method_missing": 1,
        },
        "laparoscopic_ablation_approach": {"compliant": 1, "redundant_approach_code": 1},
        "sirt_method_codes": {"compliant": 1, "other_image_control": 1, "method_codes_missing": 1},
        "ire_method_codes": {"compliant": 1, "image_control_missing": 1, "not_electroporation": 1},
        "percutaneous_laser_ablation_coding": {
            "compliant": 1, "laser_ablation_other_specified": 1, "image_control_missing": 1,
        },
        "chemosaturation_method_codes": {
            "compliant": 1, "other_image_control": 1, "method_codes_missing": 1,
        },
    }  # fmt: skip


def outcome_counts(summary: dict) -> dict:
    """Rule -> outcome -> findings, the outcomes with none left out."""
    return {
        rule["rule_id"]: {o["outcome"]: o["findings"] for o in rule["outcomes"] if o["findings"]}
        for rule in summary["rules"]
    }


def test_every_file_reconciles(sample_run):
    summary, out = sample_run
    for file in summary["files"]:
        assert file["rows_read"] == file["rows_loaded"] + file["rows_quarantined"]
    quarantine_rows = (out / "quarantine.csv").read_text().strip().splitlines()[1:]
    assert len(quarantine_rows) == summary["rows_quarantined"]


def test_report_is_self_contained_and_complete(sample_run):
    summary, out = sample_run
    html = (out / "report.html").read_text()
    assert "<script" not in html and not re.search(r"(src|href)=\"https?:", html)
    assert "NICE" in html and summary["catalogue_version"] in html
    for file in summary["files"]:
        assert file["sha256"] in html
    # every rule has its section, listing every open finding (on a first run: every one
    # needing action), and its cases
    for rule in summary["rules"]:
        assert f'id="rule-{rule["rule_id"]}"' in html
        assert f"Open findings to review ({rule['needing_action']})" in html
        assert f'id="catalogue-{rule["rule_id"]}"' in html


def test_prefect_artifacts_carry_counts_only(sample_run):
    from prefect import get_client

    summary, _ = sample_run
    episode_ids = set(re.findall(r"\b\d{12}\b", (SAMPLE / "episodes.csv").read_text()))
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts()
    keys = {artifact.key for artifact in artifacts}
    assert {"liver-audit-run", "liver-audit-outcomes", "liver-audit-report"} <= keys
    text = json.dumps([artifact.data for artifact in artifacts], default=str)
    assert not episode_ids & set(re.findall(r"\d{12}", text))
    assert str(summary["procedures_assessed"]) in text


def test_run_is_recorded_in_the_warehouse(sample_run):
    import duckdb

    summary, out = sample_run
    with duckdb.connect(str(out.parent / "warehouse.duckdb"), read_only=True) as con:
        runs = con.execute(
            "select run_id, status, rows_read, procedures_assessed from runs"
        ).fetchall()
        assert runs == [("golden-run", "completed", 120, summary["procedures_assessed"])]
        outcomes = {}
        for rule_id, outcome, findings in con.execute(
            "select rule_id, outcome, findings from run_outcomes where findings > 0"
        ).fetchall():
            outcomes.setdefault(rule_id, {})[outcome] = findings
        assert outcomes == outcome_counts(summary)
        stages = con.execute(
            # the files' stages may interleave (read side by side): by file, then time
            "select coalesce(file_name, 'run'), stage, status from run_stages "
            "order by case when stage = 'plan' then 0 when file_name is null then 2 else 1 end, "
            "file_name, started_at"
        ).fetchall()
        assert stages == [("run", "plan", "completed")] + [
            (file, stage, "completed")
            for file in ("episodes.csv", "theatre.csv")
            for stage in ("read", "stage", "validate", "load")
        ] + [("run", stage, "completed") for stage in ("assess", "summarise", "write")]
        views = {
            row[0]
            for row in con.execute(
                "select view_name from duckdb_views() where not internal"
            ).fetchall()
        }
        assert {"latest_assessments", "documented_approaches", "quarantined_rows"} <= views


def test_readme_queries_run_on_the_warehouse(sample_run, capsys):
    """Every SQL example in the README runs through `liver-audit sql` and returns rows."""
    from liver_audit.analyst_sql import run_sql

    readme = (SAMPLE.parent.parent / "README.md").read_text()
    blocks = re.findall(r"```sql\n(.*?)```", readme, flags=re.S)
    queries = [q.strip() for block in blocks for q in block.split(";") if q.strip()]
    assert len(queries) >= 5
    _, out = sample_run
    for query in queries:
        capsys.readouterr()
        assert run_sql(out.parent / "warehouse.duckdb", query, True, False, 50) == 0
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) >= 2, query  # a header and at least one row


def test_worklist_reads_back_with_the_assessments(sample_run):
    """worklist.xlsx: the rules, a sheet per rule of its open findings (a first run: all
    needing action), the compliant sample, the quarantine; rows as assessed."""
    import csv

    from openpyxl import load_workbook

    summary, out = sample_run
    workbook = load_workbook(out / "worklist.xlsx", rich_text=True)
    rules = [rule["rule_id"] for rule in summary["rules"]]
    assert workbook.sheetnames == [
        "rules",
        *[rule[:31] for rule in rules],
        "compliant sample",
        "quarantine",
    ]
    for rule in summary["rules"]:
        sheet = workbook[rule["rule_id"][:31]]
        header = [cell.value for cell in sheet[1]]
        assert header[:2] == ["outcome", "episode id"]
        assert header[-3:] == ["auditor verdict", "auditor comment", "finding key"]
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
        assert sheet.max_row - 1 == rule["needing_action"]
    assert workbook["quarantine"].max_row - 1 == summary["rows_quarantined"]
    sample = list(workbook["compliant sample"].iter_rows(min_row=2, values_only=True))
    compliant = sum(rule["compliant"] for rule in summary["rules"])
    assert 0 < len(sample) < compliant / 10  # 5% of 108, drawn by key: a handful
    passing = {
        o.outcome for r in load_catalogue().rules for o in r.outcomes if o.severity == "pass"
    }
    assert {row[1] for row in sample} <= passing
    # the coded procedure list shows the assessed code highlighted
    rows = {
        r["episode_id"]: r
        for r in csv.DictReader((out / "assessments.csv").open())
        if r["rule_id"] == "liver_resection_approach"
    }
    sheet = workbook["liver_resection_approach"]
    for values in sheet.iter_rows(min_row=2, values_only=True):
        coded = values[6]
        assert str(rows[values[1]]["procedure_code"]) in str(coded)
        assert any(getattr(block, "font", None) and block.font.b for block in coded)
