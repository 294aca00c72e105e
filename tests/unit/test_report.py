"""report.html escapes every value that comes from the data, and reads the position whole."""

import datetime

import polars as pl

from liver_audit.catalogue import load_catalogue
from liver_audit.config import default_settings
from liver_audit.report import Position, render_index, render_report, scope_of

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
RULE = "liver_resection_approach"


def hostile_position() -> Position:
    finding = {
        "rule_id": RULE, "episode_id": HOSTILE, "position": 1, "procedure_code": HOSTILE,
        "outcome": "missing_approach_code", "severity": "error", "provider_code": HOSTILE,
        "episode_end_date": datetime.date(2025, 5, 1), "message": HOSTILE, "standard": HOSTILE,
    }  # fmt: skip
    change = {
        "rule_id": RULE, "episode_id": HOSTILE, "position": 1, "provider_code": HOSTILE,
        "episode_end_date": None, "code_before": None, "outcome_before": None,
        "code_now": HOSTILE, "outcome_now": "missing_approach_code", "needs_action_now": True,
        "change": "new finding",
    }  # fmt: skip
    return Position(
        by_outcome=pl.DataFrame(
            [
                {
                    "rule_id": RULE,
                    "outcome": "missing_approach_code",
                    "provider_code": HOSTILE,
                    "findings": 2,
                    "reviewed": 0,
                    "open": 2,
                }
            ]
        ),  # fmt: skip
        by_quarter=pl.DataFrame(
            [
                {
                    "rule_id": RULE,
                    "quarter": HOSTILE,
                    "findings": 2,
                    "compliant": 1,
                    "percent_compliant": 50.0,
                }
            ]
        ),  # fmt: skip
        trend=pl.DataFrame(
            [{"rule_id": RULE, "month": HOSTILE, "percent_compliant": 50.0, "findings": 2}]
        ),
        open_findings=pl.DataFrame([finding]),
        changes=pl.DataFrame([change]),
        precision=pl.DataFrame(
            [{"rule_id": RULE, "findings_reviewed": 0, "compliant_reviewed": 0}]
        ),  # fmt: skip
        recent_runs=pl.DataFrame(
            [
                {
                    "run_id": HOSTILE,
                    "started_utc": HOSTILE,
                    "status": HOSTILE,
                    "rows_read": 1,
                    "rows_loaded": 1,
                    "rows_quarantined": 0,
                    "procedures_assessed": 1,
                    "compliance_by_rule": HOSTILE,
                    "seconds": 1.0,
                }
            ]
        ),  # fmt: skip
    )


def test_data_values_are_escaped():
    summary = {
        "run_id": HOSTILE, "catalogue_version": "1", "liver_audit_version": "1",
        "procedures_assessed": 1, "findings": 1, "rows_read": 1, "rows_loaded": 1,
        "rows_quarantined": 0, "quarantine_reasons": {HOSTILE: 1}, "files_skipped": [],
        "files": [dict.fromkeys(["file_name", "file_kind", "file_format", "rows_read",
                                  "rows_loaded", "rows_quarantined", "sha256"], HOSTILE)],
    }  # fmt: skip
    shareable = pl.DataFrame(
        {"rule_id": [RULE], "period": [HOSTILE], "provider_code": [HOSTILE], "assessed": ["*"],
         "compliant": ["*"], "needing_action": ["*"], "other": ["0"],
         "percent_compliant": ["*"], "period_from": [None], "period_to": [None]}
    )  # fmt: skip
    settings = default_settings(provider=HOSTILE)
    html = render_report(summary, hostile_position(), load_catalogue(), settings, shareable)
    assert "<script" not in html
    # run, provider (chart, tables, scope), quarter, episode, code, message, standard, ...
    assert html.count(ESCAPED) >= 15


def test_outcome_names_are_words_and_every_rate_has_its_number():
    summary = {
        "run_id": "r", "catalogue_version": "1", "liver_audit_version": "1",
        "procedures_assessed": 0, "findings": 0, "rows_read": 0, "rows_loaded": 0,
        "rows_quarantined": 0, "quarantine_reasons": {}, "files_skipped": [], "files": [],
    }  # fmt: skip
    html = render_report(
        summary, hostile_position(), load_catalogue(), default_settings(), pl.DataFrame()
    )
    assert "missing approach code" in html and ">missing_approach_code<" not in html
    assert "n=2" in html  # the quarter's point: 50% of 2


def test_the_scope_says_what_the_report_covers():
    assert scope_of(default_settings()) == "every episode the warehouse holds"
    narrowed = scope_of(default_settings(provider="RXA", financial_year="2025-26"))
    assert "financial year 2025-26" in narrowed and "provider RXA" in narrowed


def test_the_index_links_each_report_and_says_which_runs_found_nothing(tmp_path):
    runs = pl.DataFrame(
        {"run_id": ["r3", "r2", "r1"], "started_utc": ["", "", ""],
         "status": ["completed", "failed", "completed"], "rows_read": [0, 5, 9],
         "rows_loaded": [0, 5, 9], "rows_quarantined": [0, 0, 0],
         "procedures_assessed": [0, 0, 9],
         "audit_files": [None, None, str(tmp_path / "r1")], "taken_over_by": [None, "r3", None]}
    )  # fmt: skip
    html = render_index(runs, tmp_path)
    assert 'href="r1/report.html"' in html
    assert "<td>nothing new</td>" in html and "<td>reported by run r3</td>" in html
    assert html.index("the report of run\nr1") > 0
