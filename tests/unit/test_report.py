"""report.html escapes every value that comes from the data."""

import datetime

import polars as pl

from liver_audit.catalogue import load_catalogue
from liver_audit.report import RunHistory, render_report
from schemas import Finding

HOSTILE = "<script>alert(1)</script>"
RULE = "liver_resection_approach"


def test_data_values_are_escaped():
    row = dict.fromkeys(Finding.to_schema().columns, HOSTILE) | {
        "rule_id": RULE, "position": 1, "outcome": "missing_approach_code", "needs_action": True,
        "severity": "error", "episode_start_date": datetime.date(2025, 5, 1),
    }  # fmt: skip
    assessments = pl.DataFrame([row])
    rules = [
        {"rule_id": rule.id, "title": rule.title, "findings": int(rule.id == RULE),
         "compliant": 0, "percent_compliant": 0.0 if rule.id == RULE else None,
         "needing_action": int(rule.id == RULE),
         "outcomes": [{"outcome": o.outcome, "severity": o.severity,
                       "needs_action": o.needs_action,
                       "findings": int(rule.id == RULE and o.outcome == "missing_approach_code")}
                      for o in rule.outcomes]}
        for rule in load_catalogue().rules
    ]  # fmt: skip
    summary = {
        "run_id": HOSTILE, "catalogue_version": "1", "liver_audit_version": "1",
        "procedures_assessed": 1, "findings": 1, "rows_read": 1, "rows_loaded": 1,
        "rows_quarantined": 0, "rules": rules, "quarantine_reasons": {HOSTILE: 1},
        "files": [dict.fromkeys(["file_name", "file_kind", "file_format", "rows_read",
                                  "rows_loaded", "rows_quarantined", "sha256"], HOSTILE)],
    }  # fmt: skip
    by_month = pl.DataFrame(
        {"rule_id": [RULE], "month": [HOSTILE], "percent_compliant": [50.0], "findings": [2]}
    )
    history = RunHistory(
        trend=by_month,
        by_episode_month=by_month,
        recent_runs=pl.DataFrame({"run_id": [HOSTILE], "status": [HOSTILE], "rows_read": [1]}),
    )
    html = render_report(summary, assessments, load_catalogue(), history=history)
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 8  # message, episode, ... each
