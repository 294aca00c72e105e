"""HES disclosure control on the edge values (issue 3): 0, 1, 7, 8, 12, 13; and the shareable
summary built with it (issue 14): the standing position by rule, period and provider."""

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liver_audit.config import default_settings
from liver_audit.disclosure import (
    COUNTS,
    controlled_count,
    controlled_percentage,
    shareable_summary,
)
from liver_audit.report import select_position
from liver_audit.warehouse import connect, sql
from tests.examples import examples
from tests.tables import parse_table

EDGES = [(0, "0"), (1, "*"), (7, "*"), (8, "10"), (12, "10"), (13, "15"), (22, "20"), (23, "25")]


@pytest.mark.parametrize("count, shown", EDGES)
def test_controlled_count(count, shown):
    frame = pl.DataFrame({"n": [count]})
    assert frame.select(controlled_count(pl.col("n")))[0, 0] == shown


PERCENTAGES = [
    # part, whole, shown: percentages come from the rounded figures
    (0, 8, "0.0"),
    (8, 13, "66.7"),  # 10 / 15
    (12, 12, "100.0"),  # 10 / 10
    (7, 20, "*"),  # the part is suppressed
    (0, 7, "*"),  # the whole is suppressed
    (0, 0, ""),
]


@pytest.mark.parametrize("part, whole, shown", PERCENTAGES)
def test_controlled_percentage(part, whole, shown):
    frame = pl.DataFrame({"part": [part], "whole": [whole]})
    assert frame.select(controlled_percentage(pl.col("part"), pl.col("whole")))[0, 0] == shown


# --- the shareable summary: the standing position by rule, period and provider -------------

FINDINGS = """
| episode | provider | episode_end | severity | needs_action |
| 1       | RXA      | 2025-03-31  | pass     | false        |
| 2       | RXA      | 2025-04-01  | info     | false        |
| 3       | RXB      | 2025-06-30  | error    | true         |
| 4       | .        | .           | pass     | false        |
"""
# (period_type, period, provider): assessed, compliant, needing action, other; exact counts
EXPECTED = {
    ("financial year", "2024-25", "all providers"): (1, 1, 0, 0),
    ("financial year", "2024-25", "RXA"): (1, 1, 0, 0),
    ("financial year", "2025-26", "all providers"): (2, 0, 1, 1),
    ("financial year", "2025-26", "RXA"): (1, 0, 0, 1),
    ("financial year", "2025-26", "RXB"): (1, 0, 1, 0),
    ("financial year", "unknown", "all providers"): (1, 1, 0, 0),
    ("financial year", "unknown", "unknown"): (1, 1, 0, 0),
    ("quarter", "2024-25 Q4", "all providers"): (1, 1, 0, 0),
    ("quarter", "2024-25 Q4", "RXA"): (1, 1, 0, 0),
    ("quarter", "2025-26 Q1", "all providers"): (2, 0, 1, 1),
    ("quarter", "2025-26 Q1", "RXA"): (1, 0, 0, 1),
    ("quarter", "2025-26 Q1", "RXB"): (1, 0, 1, 0),
    ("quarter", "unknown", "all providers"): (1, 1, 0, 0),
    ("quarter", "unknown", "unknown"): (1, 1, 0, 0),
}
PERIODS = {
    "2024-25": ("2024-04-01", "2025-03-31"), "2025-26": ("2025-04-01", "2026-03-31"),
    "2024-25 Q4": ("2025-01-01", "2025-03-31"), "2025-26 Q1": ("2025-04-01", "2025-06-30"),
    "unknown": (None, None),
}  # fmt: skip


def insert_findings(con, rows: list[dict], rule_id: str = "liver_resection_approach") -> None:
    """Findings of the standing position as a run leaves them: each episode loaded by run r0
    and assessed by run r1 (latest_assessments)."""
    con.execute(
        "insert into input_files (file_id, run_id, file_kind, file_name) values (1, 'r0', 'episode_extract', 'f')"
    )
    for row in rows:
        provider = None if row["provider"] in ("", ".") else row["provider"]
        end = None if row["episode_end"] in ("", ".") else row["episode_end"]
        con.execute(
            "insert into episodes (episode_id, file_id, provider_code, episode_end_date) values (?, 1, ?, ?)",
            [row["episode"], provider, end],
        )
        con.execute(
            "insert into assessments (run_id, rule_id, episode_id, position, procedure_code, outcome, "
            "severity, needs_action, provider_code, episode_end_date) values ('r1', ?, ?, 1, 'J023', 'x', ?, ?, ?, ?)",
            [rule_id, row["episode"], row["severity"], row["needs_action"] == "true", provider, end],
        )  # fmt: skip


def test_shareable_counts_by_period_and_provider(fresh_db):
    insert_findings(fresh_db, parse_table(FINDINGS))
    select_position(fresh_db, default_settings())
    counts = fresh_db.sql(sql("audit_files/shareable_counts")).pl()
    found = {
        (r["period_type"], r["period"], r["provider_code"]):
            (r["assessed"], r["compliant"], r["needing_action"], r["other"])
        for r in counts.iter_rows(named=True)
    }  # fmt: skip
    assert found == EXPECTED
    for row in counts.iter_rows(named=True):
        dates = (row["period_from"], row["period_to"])
        assert tuple(d and d.isoformat() for d in dates) == PERIODS[row["period"]]


# The report's settings narrow the position, and the shareable summary with it.
NARROWED = [
    ({"financial_year": "2025-26"}, {k for k in EXPECTED if k[1].startswith("2025-26")}),
    ({"provider": "rxa"}, {(kind, period, provider)
                            for kind, period in [("financial year", "2024-25"), ("quarter", "2024-25 Q4"),
                                                 ("financial year", "2025-26"), ("quarter", "2025-26 Q1")]
                            for provider in ("RXA", "all providers")}),
    ({"since": "2025-04-01"}, {k for k in EXPECTED if k[1].startswith("2025-26")}),
    ({"since": "2025-03-31", "provider": "RXB"},
     {("financial year", "2025-26", "RXB"), ("financial year", "2025-26", "all providers"),
      ("quarter", "2025-26 Q1", "RXB"), ("quarter", "2025-26 Q1", "all providers")}),
]  # fmt: skip


@pytest.mark.parametrize("narrowed, groups", NARROWED)
def test_the_report_settings_narrow_the_shareable_counts(fresh_db, narrowed, groups):
    insert_findings(fresh_db, parse_table(FINDINGS))
    select_position(fresh_db, default_settings(**narrowed))
    counts = fresh_db.sql(sql("audit_files/shareable_counts")).pl()
    assert {(r["period_type"], r["period"], r["provider_code"])
            for r in counts.iter_rows(named=True)} == groups  # fmt: skip


OUTCOME = st.fixed_dictionaries({
    "provider": st.sampled_from(["RXA", "RXB", "RXC", "."]),
    "episode_end": st.one_of(st.just("."), st.dates(date(2019, 1, 1), date(2027, 12, 31)).map(date.isoformat)),
    "severity": st.sampled_from(["pass", "info", "warning", "error"]),
    "needs_action": st.sampled_from(["true", "false"]),
})  # fmt: skip


@settings(max_examples=examples(25), deadline=None)
@given(rows=st.lists(OUTCOME, min_size=1, max_size=40))
def test_the_columns_add_up_and_every_figure_shown_is_controlled(rows):
    """Any findings: assessed = compliant + needing action + other in every row; all
    providers is the sum of the providers; every count shown is 0, * (1-7) or a multiple of 5
    from its exact count; a percentage only from two shown counts."""
    con = connect(":memory:")
    insert_findings(con, [{**row, "episode": str(n)} for n, row in enumerate(rows)])
    select_position(con, default_settings())
    counts = con.sql(sql("audit_files/shareable_counts")).pl()
    con.close()
    assert (
        counts["assessed"] == counts["compliant"] + counts["needing_action"] + counts["other"]
    ).all()
    providers = counts.filter(pl.col("provider_code") != "all providers")
    totals = providers.group_by("period_type", "period").agg(pl.col("assessed").sum())
    everyone = counts.filter(pl.col("provider_code") == "all providers")
    assert dict(totals.select("period", "assessed").iter_rows()) == dict(
        everyone.select("period", "assessed").iter_rows()
    )
    assert everyone.filter(pl.col("period_type") == "financial year")["assessed"].sum() == len(rows)
    shown = shareable_summary(counts, "catalogue")
    for name in COUNTS:
        for exact, text in zip(counts[name], shown[name], strict=True):
            assert text == ("0" if exact == 0 else "*" if exact <= 7 else str(5 * round(exact / 5)))
    for row in shown.iter_rows(named=True):
        if row["percent_compliant"] not in ("", "*"):
            assert "*" not in (row["assessed"], row["compliant"])
            assert float(row["percent_compliant"]) == round(
                100 * int(row["compliant"]) / int(row["assessed"]), 1
            )
