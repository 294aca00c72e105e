"""UK Biobank's long layout, on real files nobody here wrote: the simulated hesin, hesin_oper
and hesin_diag in ../shared/external/ukb-simulated-hes/ (gzip, read in place) run through
the real flow. Every file reconciles; the rows kept out are the ones the files' own rows
say must be; and each J02.3 procedure is assessed as worked out by hand below, from the
rows (this test reads them with Python's csv module, not with the loader)."""

import csv
import gzip
from collections import defaultdict
from datetime import datetime

import pytest

from flows.audit import audit_run
from liver_audit.config import load_settings
from tests.conftest import EXTERNAL

pytestmark = pytest.mark.slow  # a real flow run: make test-all (CI)

UKB = EXTERNAL / "ukb-simulated-hes"
FILES = {
    "episode_extract": UKB / "sim_hesin.txt.gz",
    "episode_procedures": UKB / "sim_hesin_oper.txt.gz",
    "episode_diagnoses": UKB / "sim_hesin_diag.txt.gz",
}


def rows(kind: str) -> list[dict]:
    with gzip.open(FILES[kind], "rt", newline="") as file:
        return list(csv.DictReader(file, delimiter="\t"))


def missing(value: str) -> bool:
    return value.strip() in ("", "NA")


def episode(row: dict) -> str:
    return f"{row['eid']}:{row['ins_index']}"  # the layout's id: eid + ins_index


@pytest.fixture(scope="module")
def ukb_run(prefect_harness, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ukb")
    settings = load_settings({"warehouse": str(folder / "warehouse.duckdb")}, None)
    summary = audit_run(
        settings, extracts=[str(path) for path in FILES.values()], out_dir=str(folder / "audit")
    )
    return summary, folder / "audit"


def read_csv(path) -> list[dict]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def test_every_file_loads_and_reconciles(ukb_run):
    summary, _ = ukb_run
    files = {file["file_kind"]: file for file in summary["files"]}
    assert set(files) == set(FILES)
    for kind, file in files.items():
        assert file["file_name"] == FILES[kind].name
        assert file["rows_read"] == len(rows(kind))  # 15,631 / 31,145 / 81,930
        assert file["rows_read"] == file["rows_loaded"] + file["rows_quarantined"]


def test_the_rows_kept_out_are_those_the_rows_say(ukb_run):
    """Worked out from the rows: a procedure row with no OPCS-4 code (7 old rows carry only
    an OPCS-3 code), a diagnosis row with no ICD-10 code (9 carry only ICD-9) and an episode
    admitted after its start are each quarantined; an episode loads whole or not at all, so
    each such episode's own row and its other rows go with them."""
    _, audit = ukb_run
    episodes, procedures, diagnoses = (rows(kind) for kind in FILES)
    no_opcs4 = {i for i, row in enumerate(procedures, 1) if missing(row["oper4"])}
    no_icd10 = {i for i, row in enumerate(diagnoses, 1) if missing(row["diag_icd10"])}

    def day(text):
        return datetime.strptime(text, "%d/%m/%Y")

    admitted_after = {
        i
        for i, row in enumerate(episodes, 1)
        if not missing(row["admidate"])
        and not missing(row["epistart"])
        and day(row["admidate"]) > day(row["epistart"])
    }
    assert (len(no_opcs4), len(no_icd10), len(admitted_after)) == (7, 9, 1)
    kept_out = {episode(episodes[i - 1]) for i in admitted_after}
    kept_out |= {episode(procedures[i - 1]) for i in no_opcs4}
    kept_out |= {episode(diagnoses[i - 1]) for i in no_icd10}

    by_file = defaultdict(set)
    for row in read_csv(audit / "quarantine.csv"):  # a row's reasons are joined with "; "
        for reason in row["reason"].split("; "):
            by_file[row["source_file"]].add((int(row["source_row"]), reason))
    expected = defaultdict(set)
    for i, row in enumerate(episodes, 1):
        if i in admitted_after:
            expected[FILES["episode_extract"].name].add((i, "admission_after_episode_start"))
    for kind, own, reason, row_reason in (
        ("episode_procedures", no_opcs4, "procedure_code_missing", "procedure_row_quarantined"),
        ("episode_diagnoses", no_icd10, "diagnosis_code_missing", "diagnosis_row_quarantined"),
    ):
        for i, row in enumerate(procedures if kind == "episode_procedures" else diagnoses, 1):
            if i in own:
                expected[FILES[kind].name].add((i, reason))
            elif episode(row) in kept_out:
                expected[FILES[kind].name].add((i, "episode_quarantined"))
        failed = {episode((procedures if kind == "episode_procedures" else diagnoses)[i - 1])
                  for i in own}  # fmt: skip
        for i, row in enumerate(episodes, 1):
            if episode(row) in failed and i not in admitted_after:
                expected[FILES["episode_extract"].name].add((i, row_reason))
    assert dict(by_file) == dict(expected)


# The J02.3 (resection of segment of liver) procedures, from hesin_oper and hesin_diag (no
# theatre records are given, so only the codes tell the approach):
#   882:2  J02.3 J18.1 G28.1 H07.3 J27.8 J29.2 G60.1 (2003); diagnoses K81.1 I10
#   895:1  J02.3 Z94.2 (2009); diagnoses C22.9 K76.9 I10 Z95.8 Z96.6
#   98:60  J02.3 J18.3 U21.2 Y97.3 Y98.2 Z92.6 O16.1 (2019); diagnoses C22.1 R50.9 R29.6 I10 M19.9
# Each is the main procedure (arr_index 0, level 1: position 1). No Y75 (minimal access)
# code and no theatre record: liver_resection_approach says open_procedure (IPG135's codes
# are for minimal access; nothing documents or codes it). No Y75 code follows, so
# approach_code_directly_after has nothing to judge. Z94.2 (895:1) is a laterality code, not
# an approach. A liver indication (IPG135, IPG327): C22.9 (liver cancer, 895:1) and C22.1
# (intrahepatic bile duct carcinoma, 98:60) are; K81.1 (cholecystitis) and I10 are not
# (882:2). J02.3 at position 1 is a procedure, not a subsidiary code, and a code of OPCS-4.
J023 = {
    "882:2": ["J023", "J181", "G281", "H073", "J278", "J292", "G601"],
    "895:1": ["J023", "Z942"],
    "98:60": ["J023", "J183", "U212", "Y973", "Y982", "Z926", "O161"],
}
J023_DIAGNOSES = {
    "882:2": ["K811", "I10"],
    "895:1": ["C229", "K769", "I10", "Z958", "Z966"],
    "98:60": ["C221", "R509", "R296", "I10", "M199"],
}
J023_OUTCOMES = {
    "882:2": {
        "liver_resection_approach": "open_procedure",
        "liver_indication_coded": "no_liver_indication_coded",
        "opcs_code_in_force": "code_in_force",
        "subsidiary_code_in_primary_position": "compliant",
    },
    "895:1": {
        "liver_resection_approach": "open_procedure",
        "liver_indication_coded": "liver_indication_coded",
        "opcs_code_in_force": "code_in_force",
        "subsidiary_code_in_primary_position": "compliant",
    },
    "98:60": {
        "liver_resection_approach": "open_procedure",
        "liver_indication_coded": "liver_indication_coded",
        "opcs_code_in_force": "code_in_force",
        "subsidiary_code_in_primary_position": "compliant",
    },
}


def test_the_rows_are_those_the_outcomes_were_worked_from():
    codes, diagnosis_codes = defaultdict(dict), defaultdict(dict)
    for row in rows("episode_procedures"):
        codes[episode(row)][int(row["arr_index"])] = row["oper4"]
    for row in rows("episode_diagnoses"):
        diagnosis_codes[episode(row)][int(row["arr_index"])] = row["diag_icd10"]
    found = {e for e, by_index in codes.items() if "J023" in by_index.values()}
    assert found == set(J023)
    for e, expected in J023.items():
        assert [codes[e][i] for i in sorted(codes[e])] == expected
        assert [diagnosis_codes[e][i] for i in sorted(diagnosis_codes[e])] == J023_DIAGNOSES[e]


def test_each_j023_procedure_is_assessed_as_worked_out_by_hand(ukb_run):
    _, audit = ukb_run
    found = defaultdict(dict)
    for row in read_csv(audit / "assessments.csv"):
        if row["procedure_code"] == "J023":
            assert row["position"] == "1"
            assert row["provider_code"] == "HES"  # dsource stands in for the provider
            found[row["episode_id"]][row["rule_id"]] = row["outcome"]
    assert dict(found) == J023_OUTCOMES


def test_the_one_laparoscopic_liver_resection_has_its_approach_directly_after(ukb_run):
    """371:3: J02.1 (right hemihepatectomy) Y75.2 J18.3 Y75.2 T24.3 Y75.2 (README): each
    procedure's approach directly after it (PCSY6)."""
    _, audit = ukb_run
    outcomes = {
        (row["rule_id"], row["position"]): row["outcome"]
        for row in read_csv(audit / "assessments.csv")
        if row["episode_id"] == "371:3" and row["procedure_code"] == "J021"
    }
    assert outcomes[("approach_code_directly_after", "1")] == "compliant"
