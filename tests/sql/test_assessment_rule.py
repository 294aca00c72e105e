"""Assessment through the loader: theatre records read as one documented approach per
episode, and the latest findings follow the latest delivery. (The rules' decision tables
are their cases: rules/<id>/cases.md, run by tests/rules/.)"""

import shutil

import pytest

from liver_audit.assess import assess
from liver_audit.catalogue import RULES_DIR
from liver_audit.config import default_settings
from liver_audit.warehouse import connect, load_reference_tables
from tests.rules.cases import insert_case
from tests.tables import episode_extract, load, parse_table, theatre_file

THEATRE_CASES = """
| case                          | approaches               | documented   | status           |
| one record                    | Laparoscopic             | laparoscopic | documented       |
| padded, upper case            |  LAP                     | laparoscopic | documented       |
| two records that agree        | lap;laparoscopic         | laparoscopic | documented       |
| two records that disagree     | open;laparoscopic        | .            | conflicting      |
| unknown text                  | keyhole?                 | .            | unknown_approach |
| unknown beside a known one    | lap;??                   | .            | unknown_approach |
"""


@pytest.mark.parametrize(
    "case", parse_table(THEATRE_CASES), ids=[c["case"] for c in parse_table(THEATRE_CASES)]
)
def test_documented_approach(fresh_db, tmp_path, case):
    rows = [{"EPIKEY": "1", "APPROACH": text} for text in case["approaches"].split(";")]
    load(fresh_db, theatre_file(tmp_path / "theatre.csv", rows), "theatre_records")
    documented = fresh_db.sql(
        "select documented_approach, documentation_status from documented_approaches"
    ).fetchall()
    assert documented == [(case["documented"] or None, case["status"])]


def test_theatre_rows_of_an_undocumented_episode_are_kept(fresh_db, tmp_path):
    rows = [{"EPIKEY": "1", "APPROACH": "open"}, {"EPIKEY": "1", "APPROACH": "lap"}]
    result = load(fresh_db, theatre_file(tmp_path / "theatre.csv", rows), "theatre_records")
    assert (result.rows_loaded, result.rows_quarantined) == (2, 0)


def latest(con) -> list[tuple]:
    return con.sql(
        "select episode_id, position, outcome from latest_assessments "
        "where rule_id = 'liver_resection_approach' order by all"
    ).fetchall()


def test_latest_assessments_follow_the_latest_delivery(fresh_db, tmp_path):
    first = [{"EPIKEY": "1", "codes": "H011 _ J023 Y752"}, {"EPIKEY": "2", "codes": "J024"}]
    load(fresh_db, episode_extract(tmp_path / "a.txt", first), run_id="run-1")
    assess(fresh_db, "run-1")
    assert latest(fresh_db) == [("1", 3, "compliant"), ("2", 1, "open_procedure")]
    second = [{"EPIKEY": "1", "codes": "J023"}, {"EPIKEY": "2", "codes": "T201"}]
    load(fresh_db, episode_extract(tmp_path / "b.txt", second), run_id="run-2")
    assess(fresh_db, "run-2")
    # episode 1's J023 moved to position 1; episode 2 no longer has a liver resection
    assert latest(fresh_db) == [("1", 1, "open_procedure")]


def test_a_later_theatre_file_reassesses_the_episode(fresh_db, tmp_path):
    episode = [{"EPIKEY": "1", "codes": "J023 Y752"}]
    load(fresh_db, episode_extract(tmp_path / "a.txt", episode), run_id="run-1")
    assess(fresh_db, "run-1")
    assert latest(fresh_db) == [("1", 1, "compliant")]
    theatre = theatre_file(tmp_path / "theatre.csv", [{"EPIKEY": "1", "APPROACH": "robotic"}])
    load(fresh_db, theatre, "theatre_records", run_id="run-2")
    assess(fresh_db, "run-2")
    assert latest(fresh_db) == [("1", 1, "wrong_approach_code")]


def test_a_rule_that_no_longer_finds_anything_leaves_no_latest_finding(tmp_path):
    """A new catalogue re-assesses every episode; a rule that now gives the episode no
    finding must not leave the old catalogue's finding standing as the latest."""
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    definition = rules / "approach_code_directly_after" / "rule.toml"
    definition.write_text(definition.read_text().replace('"J022", "J023", "J024"', '"J022"'))
    con = connect(":memory:")
    load(
        con,
        episode_extract(tmp_path / "a.txt", [{"EPIKEY": "1", "codes": "J023 Z301 Y752"}]),
        run_id="run-1",
    )
    assess(con, "run-1")
    query = "select outcome from latest_assessments where rule_id = 'approach_code_directly_after'"
    assert con.sql(query).fetchall() == [("approach_code_not_directly_after",)]
    load_reference_tables(con, default_settings(rules=rules))
    assess(con, "run-2")
    assert con.sql(query).fetchall() == []
    con.close()


@pytest.mark.parametrize(
    ("day", "findings"), [("2023-03-31", 0), ("2023-04-01", 1), ("2026-04-01", 1)]
)
def test_a_rule_applies_under_the_opcs_versions_it_names(tmp_path, day, findings):
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    definition = rules / "subsidiary_code_in_primary_position" / "rule.toml"
    text = definition.read_text()
    named = text[text.index("opcs_versions = ") :].splitlines()[0]
    definition.write_text(text.replace(named, 'opcs_versions = ["OPCS-4.10", "OPCS-4.11"]'))
    con = connect(":memory:")
    load_reference_tables(con, default_settings(rules=rules))
    insert_case(con, {"codes": "Y75.2 J02.3", "theatre": ".", "date": day})
    assess(con, "run-1")
    assert con.sql(
        "select count(*) from assessments where rule_id = 'subsidiary_code_in_primary_position'"
    ).fetchall() == [(findings,)]
    con.close()
