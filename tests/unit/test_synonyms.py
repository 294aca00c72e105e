"""The approach synonym table (a setting): checked in one line naming file, row and field;
matched as staging matches theatre text (approach_key); a changed table re-matches the
theatre records held and re-assesses every episode."""

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liver_audit.assess import assess
from liver_audit.config import default_settings
from liver_audit.errors import UnusableInput
from liver_audit.warehouse import REFERENCE_DIR, connect, load_reference_tables
from tests.examples import examples
from tests.tables import episode_extract, load, parse_table, theatre_file

BAD_TABLES = """
| case                         | text                                          | error                                                |
| no synonym column            | term,approach\\nlap,laparoscopic               | row 0 (header): missing column(s) synonym            |
| an empty synonym             | synonym,approach\\n  ,laparoscopic             | row 1: field synonym is empty                        |
| an approach no rule knows    | synonym,approach\\nlap,keyhole                 | row 1: field approach must be one of                 |
| a repeat in another case     | synonym,approach\\nLap,laparoscopic\\nlAP,open  | row 2: field synonym repeats an earlier row          |
| a repeat with other spacing  | synonym,approach\\nhand  assisted,hand_assisted\\n hand assisted,open | row 2: field synonym repeats an earlier row |
"""


@pytest.mark.parametrize(
    "case", parse_table(BAD_TABLES), ids=[c["case"] for c in parse_table(BAD_TABLES)]
)
def test_a_bad_synonym_table_is_refused_in_one_line(fresh_db, tmp_path, case):
    path = tmp_path / "synonyms.csv"
    path.write_text(case["text"].replace("\\n", "\n") + "\n")
    with pytest.raises(UnusableInput) as raised:
        load_reference_tables(fresh_db, default_settings(synonyms=path))
    assert str(raised.value).startswith(f"{path}: {case['error']}")
    assert "\n" not in str(raised.value)


def test_a_missing_synonym_table_is_refused_in_one_line(fresh_db, tmp_path):
    with pytest.raises(UnusableInput, match="no such synonym table"):
        load_reference_tables(fresh_db, default_settings(synonyms=tmp_path / "none.csv"))


SPACES = st.text(alphabet=" \t", min_size=1, max_size=3)
# Letters whose case changes one for one (not ß -> SS: Python's case rules, not the data's).
LETTER = st.characters(categories=["L", "N"]).filter(
    lambda c: len(c.swapcase()) == 1 and c.swapcase().swapcase() == c
)
WORD = st.text(alphabet=LETTER, min_size=1, max_size=8)


@settings(
    max_examples=examples(15),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(words=st.lists(WORD, min_size=1, max_size=3), gaps=st.lists(SPACES, min_size=4, max_size=4))
def test_theatre_text_matches_its_synonym_whatever_its_case_and_spacing(tmp_path, words, gaps):
    """A synonym written one way matches theatre text written with other case, padding and
    runs of spaces or tabs, as the synonym table's users expect."""
    synonym = " ".join(words)
    written = gaps[0] + gaps[1].join(word.swapcase() for word in words) + gaps[2]
    path = tmp_path / "synonyms.csv"
    path.write_text('synonym,approach\n"' + synonym.replace('"', '""') + '",robotic\n')
    con = connect(":memory:")
    load_reference_tables(con, default_settings(synonyms=path))
    extract = theatre_file(tmp_path / "theatre.csv", [{"EPIKEY": "1", "APPROACH": written}])
    load(con, extract, "theatre_records")
    assert con.sql("select approach from theatre_records").fetchall() == [("robotic",)]
    con.close()


def test_a_changed_synonym_table_rematches_held_records_and_reassesses(tmp_path):
    con = connect(":memory:")
    load(con, episode_extract(tmp_path / "a.txt", [{"EPIKEY": "1", "codes": "J023 Y753"}]),
         run_id="run-1")  # fmt: skip
    load(con, theatre_file(tmp_path / "t.csv", [{"EPIKEY": "1", "APPROACH": "da Vinci"}]),
         "theatre_records", run_id="run-1")  # fmt: skip
    assess(con, "run-1")
    outcome = "select outcome from latest_assessments where rule_id = 'liver_resection_approach'"
    # no synonym for "da Vinci": undocumented, and Y75.3 is a standard code
    assert con.sql(outcome).fetchall() == [("compliant",)]
    assert con.sql("select approach from theatre_records").fetchall() == [(None,)]
    synonyms = tmp_path / "synonyms.csv"
    shutil.copy(REFERENCE_DIR / "approach_synonyms.csv", synonyms)
    with synonyms.open("a") as file:
        file.write("da vinci,laparoscopic\n")  # a trust's (wrong) reading, to see it change
    load_reference_tables(con, default_settings(synonyms=synonyms))
    assert con.sql("select approach from theatre_records").fetchall() == [("laparoscopic",)]
    assert assess(con, "run-2") > 0  # nothing new loaded: every episode judged again
    assert con.sql(outcome).fetchall() == [("wrong_approach_code",)]
    con.close()
