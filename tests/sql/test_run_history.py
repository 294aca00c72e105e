"""The run history: `liver-audit history` and the report's trend both read the run history
(run_history, rule_history), so they agree; the trend is, per rule, the compliance rate of
each month's runs."""

import datetime

from liver_audit.outputs import recent_runs
from liver_audit.warehouse import sql
from tests.tables import parse_table

RUNS = """
| run_id | started_at       | finished_at      | status    | assessed | compliant | sequenced |
| r1     | 2026-08-03 02:00 | 2026-08-03 02:04 | completed | 10       | 4         | 2         |
| r2     | 2026-08-20 02:00 | 2026-08-20 02:01 | completed | 30       | 20        | 3         |
| r3     | 2026-09-01 02:00 | 2026-09-01 02:02 | failed    | .        | .         | .         |
| r4     | 2026-09-02 02:00 | 2026-09-02 02:03 | completed | 0        | 0         | 0         |
| r5     | 2026-10-01 02:00 | 2026-10-01 02:00 | completed | 8        | 6         | 1         |
| r6     | 2026-11-01 02:00 | .                | running   | 5        | 5         | 0         |
"""


def record_runs(con, table: str) -> None:
    def timestamp(text):
        return datetime.datetime.fromisoformat(text) if text else None

    for run in parse_table(table):
        assessed = int(run["assessed"]) if run["assessed"] else None
        con.execute(
            "insert into runs (run_id, started_at, finished_at, status, procedures_assessed) "
            "values (?, ?, ?, ?, ?)",
            [run["run_id"], timestamp(run["started_at"]), timestamp(run["finished_at"]),
             run["status"], assessed],
        )  # fmt: skip
        if assessed is not None:
            # a second rule whose findings in the run are all compliant: `sequenced` of them
            con.executemany(
                "insert into run_outcomes values (?, ?, ?, ?, ?, ?)",
                [[run["run_id"], "approach", "compliant", int(run["compliant"]), "pass", False],
                 [run["run_id"], "approach", "missing_approach_code",
                  assessed - int(run["compliant"]), "error", True],
                 [run["run_id"], "sequence", "in_order", int(run["sequenced"]), "pass", False]],
            )  # fmt: skip


def test_trend_is_the_compliance_of_each_months_runs(fresh_db):
    record_runs(fresh_db, RUNS)
    trend = fresh_db.sql(
        sql("reports/compliance_by_month_of_run"), params={"run_id": "r6"}
    ).fetchall()
    # August pools r1 and r2: 24 of 40. September's failed run and empty run add nothing.
    # November's run is the one writing the report: it counts before it completes. Each
    # rule has its own line: the second rule's findings were all compliant.
    assert trend == [
        ("approach", "2026-08", 60.0, 40), ("approach", "2026-10", 75.0, 8),
        ("approach", "2026-11", 100.0, 5),
        ("sequence", "2026-08", 100.0, 5), ("sequence", "2026-10", 100.0, 1),
    ]  # fmt: skip


def test_a_running_run_that_is_not_this_one_is_left_out_of_the_trend(fresh_db):
    record_runs(fresh_db, RUNS)
    trend = fresh_db.sql(
        sql("reports/compliance_by_month_of_run"), params={"run_id": "r1"}
    ).fetchall()
    assert {month for _, month, _, _ in trend} == {"2026-08", "2026-10"}


def test_history_lists_the_same_runs_newest_first(fresh_db):
    record_runs(fresh_db, RUNS)
    runs = recent_runs(fresh_db, limit=4)
    assert runs.select("run_id", "status", "compliance_by_rule", "seconds").rows() == [
        ("r6", "running", "approach 100.0% of 5; sequence n/a of 0", None),
        ("r5", "completed", "approach 75.0% of 8; sequence 100.0% of 1", 0.0),
        ("r4", "completed", "approach n/a of 0; sequence n/a of 0", 180.0),
        ("r3", "failed", None, 120.0),
    ]
