"""The CPRD HES APC sample (data/sample/cprd/, written from CPRD's layout as public code reads
it: data/sample/README.md) is the HES sample's episodes that load, as CPRD delivers them:
three long files, DD/MM/YYYY dates, OPCS without a dot, ICD with one. Run through the real
flow, it gives the golden run's findings (tests/golden/) row for row, but for what CPRD
names otherwise: the episode id (patid:epikey) and the provider (CPRD gives none)."""

import csv

import pytest

from flows.audit import audit_run
from liver_audit.config import load_settings
from tests.conftest import SAMPLE
from tests.flows.test_golden import GOLDEN

pytestmark = pytest.mark.slow  # a real flow run beside the golden one: make test-all (CI)

CPRD = SAMPLE / "cprd"
FILES = ["hes_episodes_sample.txt", "hes_procedures_epi_sample.txt", "hes_diagnosis_epi_sample.txt"]
# finding_key is a hash of the episode id, among others; provider_code is CPRD's one code
DIFFERING = {"episode_id", "provider_code", "finding_key"}


def read(path) -> list[dict]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def cprd_run(prefect_harness, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cprd")
    settings = load_settings({"warehouse": str(folder / "warehouse.duckdb")}, None)
    summary = audit_run(
        settings,
        extracts=[str(CPRD / name) for name in FILES],
        theatre=str(CPRD / "theatre.csv"),
        out_dir=str(folder / "audit"),
        run_id="golden-run",
    )
    return summary, folder / "audit"


def test_every_file_loads_whole(cprd_run):
    summary, _ = cprd_run
    files = {file["file_name"]: file for file in summary["files"]}
    for name in FILES:
        assert files[name]["rows_quarantined"] == 0
        assert files[name]["rows_read"] == files[name]["rows_loaded"] > 0


def test_the_same_findings_as_the_hes_twin(cprd_run):
    _, audit = cprd_run
    found = read(audit / "assessments.csv")
    golden = read(GOLDEN / "assessments.csv")
    assert {row["provider_code"] for row in found} == {"CPRD"}
    patients = {row["epikey"]: row["patid"] for row in csv.DictReader(
        open(CPRD / FILES[0], newline=""), delimiter="\t"
    )}  # fmt: skip
    for row in golden:
        row["episode_id"] = f"{patients[row['episode_id']]}:{row['episode_id']}"

    def comparable(rows):
        return sorted(
            tuple((k, v) for k, v in row.items() if k not in DIFFERING - {"episode_id"})
            for row in rows
        )

    assert len(found) == len(golden)
    assert comparable(found) == comparable(golden)
