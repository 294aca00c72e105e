"""Which earlier runs a new run takes over (issue 12, item 3): those that loaded files but
never wrote their audit files, so that nothing loaded goes unreported.

Each case: an earlier run's status, whether it loaded a file, where its audit files are
(`.` none), whether run_stages has its write completed, the run that took it over before
(`.` none) and whether that run wrote its audit files; and whether run `next` takes it over.
"""

import pytest

from liver_audit.warehouse import take_over_unreported_runs
from tests.tables import parse_table

CASES = parse_table("""
| case                                           | status    | loaded | took_over | assessed_by | audit_files | write_stage | taken_by | taken_by_wrote | taken |
| failed after a load, no audit files            | failed    | yes    | no        | r1          | .           | no          | .        | .              | yes   |
| failed, audit files written (refused a file)   | failed    | yes    | no        | r1          | reports/r1  | yes         | .        | .              | no    |
| failed, written by a version before the column | failed    | yes    | no        | r1          | .           | yes         | .        | .              | no    |
| failed, its files assessed by a run that wrote | failed    | yes    | no        | r3          | .           | no          | .        | .              | no    |
| failed before any load                         | failed    | no     | no        | .           | .           | no          | .        | .              | no    |
| failed, having taken over a run that loaded    | failed    | no     | yes       | r1          | .           | no          | .        | .              | yes   |
| completed                                      | completed | yes    | no        | r1          | reports/r1  | yes         | .        | .              | no    |
| taken over by a run that wrote its files       | failed    | yes    | no        | r2          | .           | no          | r2       | yes            | no    |
| taken over by a run that died before writing   | failed    | yes    | no        | r2          | .           | no          | r2       | no             | yes   |
""")  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_which_runs_are_taken_over(fresh_db, case):
    con = fresh_db
    con.execute(
        "insert into runs (run_id, status, audit_files, taken_over_by, rows_read) "
        "values ('r1', ?, nullif(?, ''), nullif(?, ''), 10)",
        [case["status"], case["audit_files"], case["taken_by"]],
    )
    if case["taken_by"]:
        wrote = "reports/r2" if case["taken_by_wrote"] == "yes" else None
        con.execute("insert into runs (run_id, status, audit_files) values ('r2', 'failed', ?)",
                    [wrote])  # fmt: skip
    if case["assessed_by"] == "r3":
        con.execute("insert into runs (run_id, status, audit_files) values ('r3', 'completed', 'reports/r3')")  # fmt: skip
    if case["took_over"] == "yes":  # r0 loaded the file, r1 took it over and assessed it
        con.execute("insert into runs (run_id, status, taken_over_by) values ('r0', 'failed', 'r1')")  # fmt: skip
    if case["loaded"] == "yes" or case["took_over"] == "yes":
        loader = "r1" if case["loaded"] == "yes" else "r0"
        con.execute("insert into input_files (file_id, run_id) values (1, ?)", [loader])
        con.execute("insert into assessed_files values (1, ?)", [case["assessed_by"]])
        con.execute(
            "insert into assessments (run_id, rule_id, episode_id, position, procedure_code, "
            "outcome) values ('r1', 'rule', 'e1', 1, 'J023', 'compliant')"
        )
    if case["write_stage"] == "yes":
        con.execute("insert into run_stages (run_id, stage, status) values ('r1', 'write', 'completed')")  # fmt: skip
    con.execute("insert into runs (run_id, status) values ('next', 'running')")

    taken = take_over_unreported_runs(con, "next") >= 1
    assert taken == (case["taken"] == "yes")
    (by, rows_read), *_ = con.execute(
        "select taken_over_by, rows_read from runs where run_id = 'r1'"
    ).fetchall()
    left = con.execute("select count(*) from assessments where run_id = 'r1'").fetchall()[0][0]
    if taken:  # its counts and assessments go: the next run's summary holds them
        assert (by, rows_read, left) == ("next", None, 0)
        assert con.execute("select count(*) from assessed_files").fetchall() == [(0,)]
        if case["took_over"] == "yes":  # and the run it had taken over, too
            assert con.execute("select taken_over_by from runs where run_id = 'r0'").fetchall() == [
                ("next",)
            ]
    else:
        assert by == (case["taken_by"] or None) and rows_read == 10
