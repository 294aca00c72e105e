"""The rule catalogue is complete: every rule has its query, description and citation, and
every quarantine reason in the contracts is documented."""

import re

from liver_audit import ROOT
from liver_audit.catalogue import load_catalogue
from schemas import REASONS


def test_every_rule_has_query_description_and_citation():
    catalogue = load_catalogue()
    assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", catalogue.version)
    for rule in catalogue.rules:
        assert (ROOT / "sql" / "rules" / f"{rule['id']}.sql").is_file()
        assert rule["description"] and rule["severity"] in ("error", "warning", "info")
        assert "NICE" in rule["standard"] and rule["source_url"].startswith(
            "https://www.nice.org.uk/"
        )


def test_expected_codes_are_approach_codes():
    for rule in load_catalogue().rules:
        assert set(rule["expected_approach_codes"].values()) <= set(rule["approach_codes"])
        assert set(rule["recommended_approach_codes"]) <= set(rule["approach_codes"])


def test_every_quarantine_reason_is_documented():
    checks = set()
    for path in (ROOT / "schemas").glob("*.py"):
        checks |= set(re.findall(r'name="([a-z_]+)"', path.read_text()))
    assert checks | {"line_malformed"} == set(REASONS)
    readme = (ROOT / "README.md").read_text()
    for reason in REASONS:
        assert f"`{reason}`" in readme, reason
