"""The IPG135 approach-code rule, row by row of its decision table (issue 2).

Each case: the episode's codes in position order (`_` = empty position), the theatre
approach text (`.` = no theatre record), and the outcome expected for each J023/J024.
"""

import pytest

from liver_audit.assess import assess
from tests.tables import episode_extract, load, parse_table, theatre_file

DECISION_TABLE = """
| case                                    | codes                  | theatre        | outcomes                     |
| lap + Y752                              | J023 Y752              | laparoscopic   | compliant                    |
| hand assisted + Y754                    | J024 Y754              | HALS           | compliant                    |
| robotic + Y753                          | J023 Y753              | robot-assisted | compliant                    |
| converted + Y714                        | J024 Y714              | converted      | compliant                    |
| lap + Y752 and Y714: expected in run    | J023 Y714 Y752         | lap            | compliant                    |
| lap but Y753 only                       | J023 Y753              | laparoscopy    | wrong_approach_code          |
| hand assisted but Y752 only             | J024 Y752              | hand-assisted  | wrong_approach_code          |
| robotic but Y752                        | J023 Y752              | robotic        | wrong_approach_code          |
| converted but Y752 only                 | J023 Y752              | lap converted to open | wrong_approach_code   |
| lap, Y752 after another procedure       | J023 T201 Y752         | laparoscopic   | misplaced_approach_code      |
| lap, Y752 before the resection          | H011 Y752 J024         | laparoscopic   | misplaced_approach_code      |
| robotic, Y754 elsewhere                 | J023 Z942 G451 Y754    | robotic        | misplaced_approach_code      |
| lap, nothing                            | J023                   | laparoscopic   | missing_approach_code        |
| converted, nothing                      | J024 T201              | converted to open | missing_approach_code     |
| robotic, Y753 elsewhere only            | J023 H011 Y753         | robotic        | missing_approach_code        |
| open but Y752                           | J023 Y752              | open           | wrong_approach_code          |
| open but Y714                           | J024 Y714              | Open           | wrong_approach_code          |
| open, nothing                           | J023                   | open           | open_procedure               |
| open, Y752 elsewhere                    | J023 H011 Y752         | open           | open_procedure               |
| none + Y752                             | J023 Y752              | .              | compliant                    |
| none + Y754                             | J024 Y754              | .              | compliant                    |
| none + Y751                             | J023 Y751              | .              | non_standard_approach_code   |
| none + Y753                             | J024 Y753              | .              | non_standard_approach_code   |
| none + Y714                             | J023 Y714              | .              | non_standard_approach_code   |
| none, Y752 elsewhere                    | J023 H011 Y752         | .              | misplaced_approach_code      |
| none, nothing                           | J023                   | .              | open_procedure               |
| none, only a site code after            | J023 Z942              | .              | open_procedure               |
| run passes a site code                  | J023 Z942 Y752         | .              | compliant                    |
| run spans an empty position             | J023 _ Y752            | .              | compliant                    |
| run stops at the next procedure         | J023 J024 Y752         | .              | misplaced_approach_code compliant |
| two resections, each with its code      | J023 Y752 J024 Y754    | .              | compliant compliant          |
| resection in a later position           | H011 J023 Y752         | .              | compliant                    |
| unknown theatre text: undocumented      | J023 Y751              | keyhole?       | non_standard_approach_code   |
| J021 is not assessed                    | J021 Y752              | .              |                              |
"""

CASES = parse_table(DECISION_TABLE)


@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_decision_table(fresh_db, tmp_path, case):
    episode = {"EPIKEY": "000000000001", "codes": case["codes"]}
    load(fresh_db, episode_extract(tmp_path / "episodes.txt", [episode]))
    if case["theatre"]:
        theatre = [{"EPIKEY": "000000000001", "APPROACH": case["theatre"]}]
        load(fresh_db, theatre_file(tmp_path / "theatre.csv", theatre), "theatre_records")
    assess(fresh_db, "test-run")
    outcomes = fresh_db.sql("select outcome from assessments order by position").fetchall()
    assert [o for (o,) in outcomes] == case["outcomes"].split()


def test_every_outcome_is_exercised():
    """The table above covers every outcome in the catalogue."""
    from liver_audit.catalogue import load_catalogue

    covered = {o for case in CASES for o in case["outcomes"].split()}
    assert covered == {o["outcome"] for o in load_catalogue().outcomes}


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
        "select episode_id, position, outcome from latest_assessments order by all"
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
