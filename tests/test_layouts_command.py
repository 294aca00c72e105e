"""`liver-audit layouts` and `liver-audit inspect FILE`: the layouts a run knows, and what a
run would make of a file, from its header and row count alone: never a row value."""

import re

from tests.conftest import EXTERNAL, SAMPLE
from tests.flows.test_trust_layout import LAYOUT, NAMES
from tests.test_cli import liver_audit


def trust_files(tmp_path):
    """The sample under the trust's column names (dates as they are: inspect reads none),
    and a liver-audit.toml defining its layout."""
    lines = (SAMPLE / "episodes.csv").read_text().splitlines()
    header = "|".join(NAMES.get(name, name) for name in lines[0].split("|"))
    extract = tmp_path / "pas.txt"
    extract.write_text("\n".join([header, *lines[1:]]) + "\n")
    config = tmp_path / "liver-audit.toml"
    config.write_text(LAYOUT)
    return extract, config


def test_layouts_lists_the_shipped_and_the_trusts_own(tmp_path):
    _, config = trust_files(tmp_path)
    result = liver_audit("layouts", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "hes_apc: HES APC extract" in result.stdout
    assert "our_pas: Our PAS extract (SUS-style names)" in result.stdout
    assert f"defined in {config}" in result.stdout
    assert re.search(r"episode_id +EPISODE NUMBER", result.stdout)
    assert "PRIMARY PROCEDURE (OPCS) + PROCEDURE {n} (OPCS)" in result.stdout


def test_inspect_says_the_layout_and_what_would_load_and_no_value(tmp_path):
    extract, config = trust_files(tmp_path)
    result = liver_audit("inspect", str(extract), "--config", str(config))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{extract}: pipe, 28 columns, 86 data rows"
    assert lines[1] == "episode extract, layout our_pas: Our PAS extract (SUS-style names)"
    assert "  dates read as DD/MM/YYYY" in lines
    assert re.search(r"episode_id +Episode Number\n", result.stdout)  # as the header writes it
    assert re.search(r"procedure_codes +8 positions, 1-8 \(Primary Procedure \(OPCS\) \.\.\. "
                     r"Procedure 8 \(OPCS\)\)", result.stdout)  # fmt: skip
    assert re.search(r"diagnosis_codes +3 positions, 1-3", result.stdout)
    assert "not read: 2 columns" in result.stdout
    episode_ids = set(re.findall(r"\b\d{12}\b", extract.read_text()))
    assert not episode_ids & set(re.findall(r"\d{12}", result.stdout + result.stderr))


def test_inspect_of_a_file_no_layout_fits_is_one_line(tmp_path):
    extract, _ = trust_files(tmp_path)  # without the trust's layout: HES's is the nearest
    result = liver_audit("inspect", str(extract))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"liver-audit: {extract}: row 0 (header): missing column(s) EPIKEY, PROCODE3, ADMIDATE, "
        "EPISTART, EPIEND, SEX, STARTAGE, OPERTN_4_nn or OPERTN_nn (nearest layout: hes_apc)"
    ]


def test_a_layout_no_one_defined_is_refused_in_one_line(tmp_path):
    _, config = trust_files(tmp_path)
    result = liver_audit("run", str(SAMPLE / "episodes.csv"), "--layout", "theirs",
                         "--config", str(config))  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "liver-audit: --layout: layout 'theirs' is not a layout (cprd_hes_apc, hes_apc, uk_biobank, our_pas)"
    ]


def test_inspect_of_a_long_layouts_file_names_its_table_and_columns():
    """UK Biobank's hesin_oper, gzip, read in place: its table, each field's column as the
    header writes it, and that it loads with the layout's other files."""
    path = EXTERNAL / "ukb-simulated-hes" / "sim_hesin_oper.txt.gz"
    result = liver_audit("inspect", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{path}: tab, 11 columns, 31,145 data rows"
    assert lines[1].startswith("procedures file (episode_procedures) of layout uk_biobank: ")
    assert re.search(r"episode_id +eid \+ ins_index$", result.stdout, re.M)
    assert re.search(r"position +arr_index \(counted from 0\)$", result.stdout, re.M)
    assert re.search(r"code +oper4$", result.stdout, re.M)


def test_layouts_lists_a_long_layouts_files():
    result = liver_audit("layouts")
    assert result.returncode == 0, result.stderr
    block = result.stdout.split("uk_biobank: ")[1]
    assert "episodes file (one row per episode):" in block
    assert re.search(r"provider_code +DSOURCE", block)
    assert re.search(r"position +ARR_INDEX \(counted from 0\)", block)
    assert "provider_code       every episode: CPRD" in result.stdout
