"""opcs_code_in_force on a code with no day (no procedure date, no episode end): no version
is in force to check it against, so it is checked against every list held (rules/
opcs_code_in_force: a case of cases.md cannot leave the date out)."""

from liver_audit.assess import assess


def test_a_code_with_no_day_is_checked_against_every_list(fresh_db):
    con = fresh_db
    con.execute("insert into input_files (file_id, run_id, file_kind, file_name) "
                "values (1, 'r0', 'episode_extract', 'f')")  # fmt: skip
    con.execute("insert into episodes (episode_id, file_id) values ('1', 1)")
    con.execute(
        "insert into procedures (episode_id, position, procedure_code, file_id) values "
        "('1', 1, 'J023', 1), ('1', 2, 'Y721', 1), ('1', 3, 'G802', 1), ('1', 4, 'J999', 1)"
    )
    assess(con, "r1")
    found = con.sql(
        "select position, outcome, opcs_version from assessments "
        "where rule_id = 'opcs_code_in_force' order by position"
    ).fetchall()
    # Y72.1 (4.10 on), G80.2 (4.9 only): each in a list held; J99.9 in none
    assert found == [
        (1, "code_in_force", None), (2, "code_in_force", None), (3, "code_in_force", None),
        (4, "code_not_in_reference", None),
    ]  # fmt: skip
