"""The code checks' scope (setting code_check_scope): the OPCS-4 and ICD-10 code checks judge
the episodes with a liver procedure (liver_episodes, the default) or every episode
(all_episodes, a national data-quality check), where outside liver episodes only findings
that are not a pass are recorded. Three episodes of one file, as the loader leaves them:

| episode | codes        | diagnoses          | liver | why                                          |
|---------|--------------|--------------------|-------|----------------------------------------------|
| 1       | J02.3 Y75.2  | C78.7 C18.7        | yes   | every code in force: passes, always recorded |
| 2       | H01.1        | K35.8              | no    | every code in force: nothing recorded        |
| 3       | H01.1 T99.9  | K35.8 C78 R69X6    | no    | T99.9 and C78 (C78X) in no list; R69X6 HES's null primary diagnosis |
| 4       | H01.1        | C78                | no    | C78 (C78X) in no list: its only finding      |
"""

import pytest

from liver_audit.assess import assess
from tests.rules.cases import insert_case

EPISODES = {
    "1": {"codes": "J02.3 Y75.2", "diagnoses": "C78.7 C18.7"},
    "2": {"codes": "H01.1", "diagnoses": "K35.8"},
    "3": {"codes": "H01.1 T99.9", "diagnoses": "K35.8 C78 R69X6"},
    "4": {"codes": "H01.1", "diagnoses": "C78"},
}
LIVER_EPISODE = [
    ("1", "icd10_code_in_force", 1, "code_in_force"),
    ("1", "icd10_code_in_force", 2, "code_in_force"),
    ("1", "opcs_code_in_force", 1, "code_in_force"),
    ("1", "opcs_code_in_force", 2, "code_in_force"),
]
# Episode 3 outside the liver scope: what needs action, and no pass.
EPISODE_3 = [
    ("3", "icd10_code_in_force", 2, "code_not_in_reference"),
    ("3", "icd10_code_in_force", 3, "diagnosis_not_known"),
    ("3", "opcs_code_in_force", 2, "code_not_in_reference"),
    ("4", "icd10_code_in_force", 1, "code_not_in_reference"),
]
CODE_RULES = ("opcs_code_in_force", "icd10_code_in_force")


@pytest.fixture
def con(fresh_db):
    for episode_id, codes in EPISODES.items():
        insert_case(fresh_db, {"date": "2025-05-02", "theatre": "."} | codes, episode_id)
    # the two code checks only: the other rules' findings are theirs to test
    fresh_db.execute(
        "delete from rule_catalogue where rule_id not in (select unnest(?))", [list(CODE_RULES)]
    )
    return fresh_db


def scoped(con, scope: str) -> None:
    con.execute("update assessment_settings set code_check_scope = ?", [scope])


def current(con) -> list[tuple]:
    return con.execute(
        "select episode_id, rule_id, position, outcome from latest_assessments order by all"
    ).fetchall()


def test_by_default_only_liver_episodes_codes_are_checked(con):
    assess(con, "u1")  # run ids after the cases' loading run, 'test-run'
    assert current(con) == LIVER_EPISODE
    assert con.execute(
        "select code_check_scope, episodes, liver_episodes, procedure_codes, diagnosis_codes "
        "from code_checks where run_id = 'u1'"
    ).fetchall() == [("liver_episodes", 1, 1, 2, 2)]


def test_all_episodes_records_every_finding_of_liver_episodes_and_only_the_rest_needing_action(
    con,
):
    scoped(con, "all_episodes")
    assess(con, "u1")
    assert current(con) == sorted(LIVER_EPISODE + EPISODE_3)
    # the counts say what the unrecorded passes covered: 6 procedure and 7 diagnosis codes
    assert con.execute(
        "select code_check_scope, episodes, liver_episodes, procedure_codes, diagnosis_codes "
        "from code_checks where run_id = 'u1'"
    ).fetchall() == [("all_episodes", 4, 1, 6, 7)]
    # each finding carries its episode's provider and the version in force, as any other
    # (a diagnosis has no OPCS-4 version)
    assert con.execute(
        "select distinct rule_id, provider_code, opcs_version from assessments "
        "where episode_id = '3' order by all"
    ).fetchall() == [
        ("icd10_code_in_force", "RXA", None),
        ("opcs_code_in_force", "RXA", "OPCS-4.10"),
    ]


def test_narrowing_the_scope_again_takes_the_wider_findings_out_of_the_position(con):
    scoped(con, "all_episodes")
    assess(con, "u1")
    scoped(con, "liver_episodes")  # a changed scope reassesses every file
    assess(con, "u2")
    assert current(con) == LIVER_EPISODE
    scoped(con, "all_episodes")
    assess(con, "u3")
    assert current(con) == sorted(LIVER_EPISODE + EPISODE_3)


def test_a_finding_a_new_catalogue_turns_into_a_pass_leaves_the_position(con):
    """Outside liver episodes a pass leaves no row, so the latest run with rows for the
    episode is not its latest assessment: the run that last assessed its file is. Episode 4
    had one finding; now it has none."""
    scoped(con, "all_episodes")
    assess(con, "u1")
    con.execute("insert into icd10_codes (code, title) values ('C78X', 'as if a code')")
    con.execute("update assessment_settings set catalogue_version = 'changed'")
    assess(con, "u2")
    assert current(con) == sorted(
        LIVER_EPISODE
        + [f for f in EPISODE_3 if f[3] != "code_not_in_reference" or f[1] != "icd10_code_in_force"]
    )


def test_a_liver_episode_whose_theatre_record_alone_is_new_keeps_every_finding(con):
    """A later file delivering only episode 1's theatre record assesses episode 1 again,
    though the file that loaded it is not assessed again: its codes are found by episode, not
    by file, and no other episode of that file is judged again."""
    scoped(con, "all_episodes")
    assess(con, "u1")
    con.execute(
        "insert into input_files (file_id, run_id, file_kind, file_name) "
        "values (2, 'later-run', 'theatre', 'theatre.csv')"
    )
    con.execute(
        "insert into theatre_records (episode_id, operation_date, approach_text, approach, "
        "file_id) values ('1', '2025-05-02', 'laparoscopic', 'laparoscopic', 2)"
    )
    assess(con, "u2")
    assert (
        con.execute(
            "select episode_id, rule_id, position, outcome from assessments where run_id = 'u2' "
            "order by all"
        ).fetchall()
        == LIVER_EPISODE
    )
    assert con.execute(
        "select episodes, liver_episodes, procedure_codes, diagnosis_codes "
        "from code_checks where run_id = 'u2'"
    ).fetchall() == [(1, 1, 2, 2)]


def test_a_procedure_without_its_date_is_checked_against_the_version_of_its_episodes_end(con):
    """Episode 5, outside the liver scope, ended in OPCS-4.9 with Y72.1 (a 4.10 code) and no
    procedure dates: the setting opcs_version_date (procedure_date, the default) falls back to
    the episode's end, so Y72.1 was not yet in force."""
    insert_case(con, {"date": "2022-05-02", "theatre": ".", "codes": "H01.1 Y72.1"}, "5")
    con.execute("update procedures set procedure_date = null where episode_id = '5'")
    scoped(con, "all_episodes")
    assess(con, "u1")
    assert ("5", "opcs_code_in_force", 2, "code_not_yet_in_force") in current(con)
