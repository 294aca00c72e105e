"""data/reference/opcs4_codes.csv is what its script makes from the public files in
../shared/external (read by the tests only: the product ships the result), and holds what
the coding standards say of each version."""

import csv
import importlib.util

import pytest

from tests.conftest import EXTERNAL, REPO

SCRIPT = REPO / "data" / "reference" / "make_opcs4_codes.py"


def versions() -> dict[str, dict[str, str]]:
    held: dict[str, dict[str, str]] = {}
    with (REPO / "data" / "reference" / "opcs4_codes.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            held.setdefault(row["version"], {})[row["code"]] = row["title"]
    return held


@pytest.mark.skipif(not EXTERNAL.is_dir(), reason="needs ../shared/external")
def test_the_shipped_list_is_what_its_script_makes(tmp_path):
    spec = importlib.util.spec_from_file_location("make_opcs4_codes", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(tmp_path / "made.csv") == 0
    shipped = (REPO / "data" / "reference" / "opcs4_codes.csv").read_bytes()
    assert (tmp_path / "made.csv").read_bytes() == shipped


FACTS = [
    # (code, versions holding it, as NCCS 2026 section 0 and PRule 6 say)
    ("J023", {"OPCS-4.9", "OPCS-4.10", "OPCS-4.11"}),
    ("Y721", {"OPCS-4.10", "OPCS-4.11"}),  # robotic conversion: from 4.10
    ("Y722", {"OPCS-4.10", "OPCS-4.11"}),
    ("G802", {"OPCS-4.9"}),  # retired in 4.10
    ("P153", {"OPCS-4.9"}),
    ("J171", {"OPCS-4.9", "OPCS-4.10"}),  # liver EUS: retired in 4.11
    ("Y761", {"OPCS-4.9", "OPCS-4.10"}),
    ("Y765", {"OPCS-4.9", "OPCS-4.10", "OPCS-4.11"}),  # Y76.5 stays
    ("Y855", {"OPCS-4.11"}),  # new in 4.11
]


@pytest.mark.parametrize("code, holding", FACTS)
def test_each_version_holds_what_the_standards_say(code, holding):
    assert {version for version, codes in versions().items() if code in codes} == holding


def test_titles_are_per_version():
    held = versions()
    assert held["OPCS-4.9"]["Y714"] == "Failed minimal access approach converted to open"
    assert held["OPCS-4.10"]["Y714"] == "Failed minimal access approach converted to open NEC"
    assert held["OPCS-4.11"]["Y753"] == "Robotic assisted laparoscopic approach to abdominal cavity"


ICD10_SCRIPT = REPO / "data" / "reference" / "make_icd10_codes.py"


@pytest.mark.skipif(not EXTERNAL.is_dir(), reason="needs ../shared/external")
def test_the_shipped_icd10_list_is_what_its_script_makes(tmp_path):
    spec = importlib.util.spec_from_file_location("make_icd10_codes", ICD10_SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(tmp_path / "made.csv") == 0
    shipped = (REPO / "data" / "reference" / "icd10_codes.csv").read_bytes()
    assert (tmp_path / "made.csv").read_bytes() == shipped


def icd10() -> dict[str, str]:
    with (REPO / "data" / "reference" / "icd10_codes.csv").open(newline="") as f:
        return {row["code"]: row["title"] for row in csv.DictReader(f)}


@pytest.mark.parametrize(
    "code, held",
    [
        ("C787", True),  # secondary malignant neoplasm of liver (domain.md section 4)
        ("C20X", True),  # rectum: a 3-character code, padded with X as HES holds it
        ("C78X", False),  # C78 has 4th characters: C78X is no code
        ("I700", True),  # I70.00 (a 5th character) as its 4 characters
        ("I48X", True),  # kept whole by the NHS edition: HES counts it since 2016-17
        ("W19X", True),
        ("I21X", False),  # UK Biobank's own "presumed" code, not ICD-10
        ("R69X", True),
    ],
)
def test_the_icd10_list_holds_codes_as_hes_does(code, held):
    assert (code in icd10()) == held


def test_every_icd10_code_has_a_title():
    assert all(icd10().values())
