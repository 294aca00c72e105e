"""report.html escapes every value that comes from the data."""

import datetime

import polars as pl

from liver_audit.catalogue import load_catalogue
from liver_audit.outputs import ASSESSMENT_COLUMNS
from liver_audit.report import RunHistory, render_report

HOSTILE = "<script>alert(1)</script>"


def test_data_values_are_escaped():
    row = dict.fromkeys(ASSESSMENT_COLUMNS, HOSTILE) | {
        "position": 1, "outcome": "missing_approach_code",
        "episode_start_date": datetime.date(2025, 5, 1),
    }  # fmt: skip
    assessments = pl.DataFrame([row])
    summary = {
        "run_id": HOSTILE, "catalogue_version": "1", "liver_audit_version": "1",
        "procedures_assessed": 1, "percent_compliant": 0.0, "rows_read": 1, "rows_loaded": 1, "rows_quarantined": 0,
        "outcomes": {"missing_approach_code": 1}, "quarantine_reasons": {HOSTILE: 1},
        "files": [dict.fromkeys(["file_name", "file_kind", "file_format", "rows_read",
                                  "rows_loaded", "rows_quarantined", "sha256"], HOSTILE)],
    }  # fmt: skip
    history = RunHistory(
        trend=[(HOSTILE, 50.0, 2)],
        by_episode_month=[(HOSTILE, 0.0, 1)],
        recent_runs=pl.DataFrame({"run_id": [HOSTILE], "status": [HOSTILE], "rows_read": [1]}),
    )
    html = render_report(summary, assessments, load_catalogue(), history=history)
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
