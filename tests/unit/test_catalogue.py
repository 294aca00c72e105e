"""The rule catalogue: folders load, a malformed one is refused in one line naming the file and
field, the version follows the rules' content; every quarantine reason is documented."""

import re
import shutil

import pytest

from liver_audit import ROOT
from liver_audit.catalogue import RULES_DIR, load_catalogue
from liver_audit.errors import UnusableInput
from schemas import KEPT_OUT, REASONS


def test_the_shipped_rules_load_with_a_version_from_their_content():
    catalogue = load_catalogue()
    assert re.fullmatch(r"[0-9a-f]{12}", catalogue.version)
    assert {rule.id for rule in catalogue.rules} >= {
        "liver_resection_approach", "approach_code_directly_after",
        "subsidiary_code_in_primary_position",
    }  # fmt: skip


def copy_of_rules(tmp_path):
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder)
    return folder


def test_a_changed_query_changes_the_catalogue_version(tmp_path):
    folder = copy_of_rules(tmp_path)
    before = load_catalogue(folder).version
    query = folder / "liver_resection_approach" / "query.sql"
    query.write_text(query.read_text() + "\n-- a comment is a change too\n")
    changed = tmp_path / "changed"
    shutil.copytree(folder, changed)  # a new path: load_catalogue caches by folder
    assert load_catalogue(changed).version != before


BREAKAGES = [
    # (what is done to rules/liver_resection_approach, the start of the one-line refusal)
    ("rule.toml", 'id = "liver_resection_approach"', 'id = "other"', "field id must be the folder"),
    ("rule.toml", 'title = "', 'titel = "', "field title: Field required"),
    ("rule.toml", 'severity = "error"', 'severity = "fatal"',
     "field outcomes entry 2: severity: Input should be 'pass', 'info', 'warning' or 'error'"),
    ("rule.toml", 'needs_action = true', 'needs_action = "no"',
     "field outcomes entry 2: needs_action: Input should be a valid boolean"),
    ("rule.toml", 'from = "OPCS-4.10"', 'from = "OPCS-5"',
     "field code_maps.expected entry 6: an OPCS-4 version not in"),
    ("rule.toml", 'key = "hand_assisted"', 'key = "laparoscopic"',
     "field code_maps.expected entry 2: key laparoscopic is mapped twice"),
    ("rule.toml", "[[standards]]", "[[standards]]\n[[standards]]",
     "field standards entry 1: id: Field required"),
    ("rule.toml", 'section = "Coding recommendations"\nurl = "https://www.nice.org.uk/guidance/ipg135"',
     'section = "Coding recommendations"', "field standards entry 1: Value error, needs a page or a url"),
    ("rule.toml", 'opcs_versions = ["', 'opcs_versions = ["OPCS-3", "', "field opcs_versions: an OPCS-4"),
    ("rule.toml", 'assessed = ["J023", "J024"]', 'assessed = "J023"',
     "field code_lists.assessed: Input should be a valid list"),
    ("rule.toml", 'severity = "pass"\nneeds_action = false', 'severity = "pass"\nneeds_action = true',
     "field outcomes entry 1: Value error, an outcome of severity pass needs no action"),
    ("rule.toml", 'id = "liver_resection_approach"', 'id = "liver_resection_approach"\nseverty = 1',
     "field severty: Extra inputs are not permitted"),
    ("rule.toml", '[[outcomes]]\noutcome = "compliant"', '[[outcomes]]\noutcome = "Compliant!"',
     "field outcomes entry 1: outcome: String should match pattern"),
    ("rule.toml", "[code_lists]", "[code_lists", "not valid TOML"),
    ("cases.md", "| case | codes |", "| case | code |", "row 1: the columns must be"),
    ("cases.md", "| laparoscopic, Y75.2 |", "| laparoscopic | Y75.2 |", "row 3: 7 cells"),
]  # fmt: skip


@pytest.mark.parametrize(("file", "old", "new", "message"), BREAKAGES)
def test_a_malformed_rule_folder_is_refused_in_one_line(tmp_path, file, old, new, message):
    folder = copy_of_rules(tmp_path)
    path = folder / "liver_resection_approach" / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(UnusableInput) as refused:
        load_catalogue(folder)
    assert str(path) in str(refused.value) and message in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("missing", ["query.sql", "cases.md"])
def test_a_rule_folder_without_its_query_or_cases_is_refused(tmp_path, missing):
    folder = copy_of_rules(tmp_path)
    (folder / "liver_resection_approach" / missing).unlink()
    with pytest.raises(UnusableInput, match=f"has no {missing}"):
        load_catalogue(folder)


def test_every_quarantine_reason_is_documented():
    checks = set()
    for path in (ROOT / "schemas").glob("*.py"):
        checks |= set(re.findall(r'name="([a-z_]+)"', path.read_text()))
    assert checks | {"line_malformed"} | set(KEPT_OUT) == set(REASONS)
    kept_out = (ROOT / "sql" / "load" / "kept_out_with_episodes.sql").read_text()
    assert all(f"'{reason}'" in kept_out for reason in KEPT_OUT)
    readme = (ROOT / "README.md").read_text()
    for reason in REASONS:
        assert f"`{reason}`" in readme, reason


def test_a_query_that_is_not_utf8_is_refused_in_one_line(tmp_path):
    folder = copy_of_rules(tmp_path)
    query = folder / "liver_resection_approach" / "query.sql"
    query.write_bytes(query.read_bytes() + b"\n-- caf\xe9\n")
    with pytest.raises(UnusableInput, match=f"^{re.escape(str(query))}: not UTF-8 text$"):
        load_catalogue(folder)


def test_only_the_first_table_of_cases_md_holds_cases(tmp_path):
    folder = copy_of_rules(tmp_path)
    cases = folder / "liver_resection_approach" / "cases.md"
    cases.write_text(cases.read_text() + "\nNotes.\n\n| a | b |\n|---|---|\n| x | y |\n")
    counts = [[len(rule.cases) for rule in load_catalogue(f).rules] for f in (RULES_DIR, folder)]
    assert counts[0] == counts[1]


def test_a_rule_edited_while_a_process_lives_is_read_again(tmp_path):
    """`liver-audit serve` lives for months: the catalogue it runs is the folder's as it is."""
    folder = copy_of_rules(tmp_path)
    before = load_catalogue(folder).version
    query = folder / "liver_resection_approach" / "query.sql"
    query.write_text(query.read_text() + "\n-- edited\n")
    assert load_catalogue(folder).version != before
