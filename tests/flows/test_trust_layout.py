"""A trust's own layout ([layouts.NAME] in liver-audit.toml): the sample's episodes
(data/sample/episodes.csv) under SUS-style column names, dates written DD/MM/YYYY, load and
are assessed as the HES layout's are in the golden run (tests/golden/): the same findings,
row for row, and the same rows quarantined for the same reasons, each naming the trust's
own column."""

import csv
import re

import pytest

from flows.audit import audit_run
from liver_audit.config import load_settings
from tests.conftest import SAMPLE
from tests.flows.test_golden import GOLDEN

pytestmark = pytest.mark.slow  # a second real flow run beside the golden one: make test-all (CI)

LAYOUT = """
[layouts.our_pas]
title = "Our PAS extract (SUS-style names)"
source = "the trust's PAS export specification"
dates = "DD/MM/YYYY"
episode_id = "Episode Number"
provider_code = "Provider Code"
admission_date = "Start Date (Hospital Provider Spell)"
episode_start_date = "Start Date (Episode)"
episode_end_date = "End Date (Episode)"
sex = "Person Stated Gender Code"
start_age = "Age at CDS Activity Date"
procedure_codes = [["Primary Procedure (OPCS)", "Procedure {n} (OPCS)"]]
procedure_dates = [["Primary Procedure Date (OPCS)", "Procedure {n} Date (OPCS)"]]
diagnosis_codes = [
    ["Primary Diagnosis (ICD)", "Secondary Diagnosis (ICD) 1", "Secondary Diagnosis (ICD) 2"],
]
"""
# the sample's HES columns -> the trust's
NAMES = {
    "EPIKEY": "Episode Number",
    "PROCODE3": "Provider Code",
    "ADMIDATE": "Start Date (Hospital Provider Spell)",
    "EPISTART": "Start Date (Episode)",
    "EPIEND": "End Date (Episode)",
    "SEX": "Person Stated Gender Code",
    "STARTAGE": "Age at CDS Activity Date",
    "DIAG_4_01": "Primary Diagnosis (ICD)",
    "DIAG_4_02": "Secondary Diagnosis (ICD) 1",
    "DIAG_4_03": "Secondary Diagnosis (ICD) 2",
    "OPERTN_4_01": "Primary Procedure (OPCS)",
    "OPDATE_01": "Primary Procedure Date (OPCS)",
    **{f"OPERTN_4_{n:02d}": f"Procedure {n} (OPCS)" for n in range(2, 9)},
    **{f"OPDATE_{n:02d}": f"Procedure {n} Date (OPCS)" for n in range(2, 9)},
}
DATES = {"ADMIDATE", "EPISTART", "EPIEND", *(f"OPDATE_{n:02d}" for n in range(1, 9))}


def twin_date(text: str) -> str:
    """A HES date's twin as the trust writes it: 2025-04-06 -> 06/04/2025. Text that is a
    DD/MM/YYYY date, which HES's layout refuses (sample row 49), must stay no date in the
    trust's layout too: 01/05/2025 -> 01.05.2025. Anything else as it is."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        year, month, day = text.split("-")
        return f"{day}/{month}/{year}"
    if re.fullmatch(r"\d{2}/\d{2}/\d{4}", text):
        return text.replace("/", ".")
    return text


@pytest.fixture(scope="module")
def trust_run(prefect_harness, tmp_path_factory):
    folder = tmp_path_factory.mktemp("trust")
    lines = (SAMPLE / "episodes.csv").read_text().splitlines()
    header = lines[0].split("|")
    rows = []
    for line in lines[1:]:
        cells = line.split("|")  # every sample line has the header's 28 fields, no quotes
        assert len(cells) == len(header)
        rows.append("|".join(
            twin_date(cell) if name in DATES else cell for name, cell in zip(header, cells)
        ))  # fmt: skip
    extract = folder / "extract" / "episodes.csv"
    extract.parent.mkdir()
    extract.write_text("\n".join(["|".join(NAMES.get(n, n) for n in header), *rows]) + "\n")
    (folder / "liver-audit.toml").write_text(LAYOUT)
    settings = load_settings(
        {"warehouse": str(folder / "warehouse.duckdb")}, str(folder / "liver-audit.toml")
    )
    audit_run(
        settings,
        extracts=[str(extract)],
        theatre=str(SAMPLE / "theatre.csv"),
        out_dir=str(folder / "audit"),
        run_id="golden-run",
    )
    return folder / "audit"


def test_the_same_findings_as_the_hes_layout(trust_run):
    assert (trust_run / "assessments.csv").read_text() == (GOLDEN / "assessments.csv").read_text()


def test_the_same_rows_are_quarantined_naming_the_trusts_columns(trust_run):
    def rows(path):
        with open(path, newline="") as file:
            return list(csv.DictReader(file))

    expected = []
    for row in rows(GOLDEN / "quarantine.csv"):
        if row["source_file"] == "episodes.csv":
            if row["field"] in DATES and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["value"]):
                row["value"] = twin_date(row["value"])  # as delivered, not a date either way
            row["field"] = NAMES.get(row["field"], row["field"])
        expected.append(row)
    assert rows(trust_run / "quarantine.csv") == expected
