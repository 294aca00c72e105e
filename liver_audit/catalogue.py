"""The rule catalogue (data/rules/catalogue.toml) as tables the rule queries join to."""

import tomllib
from dataclasses import dataclass
from functools import cache

import polars as pl

from liver_audit import ROOT

CATALOGUE_PATH = ROOT / "data" / "rules" / "catalogue.toml"


@dataclass(frozen=True)
class Catalogue:
    version: str
    rules: list[dict]
    outcomes: list[dict]

    def rule_codes(self) -> pl.DataFrame:
        """One row per (rule, role, code): the code lists each rule query joins to."""
        rows = []
        roles = {
            "assessed_procedure_codes": "assessed_procedure",
            "approach_codes": "approach",
            "recommended_approach_codes": "recommended_approach",
            "qualifier_chapters": "qualifier_chapter",
        }
        for rule in self.rules:
            for key, role in roles.items():
                rows += [(rule["id"], role, code, None) for code in rule.get(key, [])]
            for approach, code in rule.get("expected_approach_codes", {}).items():
                rows.append((rule["id"], "expected_approach", code, approach))
        return pl.DataFrame(rows, schema=["rule_id", "role", "code", "approach"], orient="row")

    def rule_table(self) -> pl.DataFrame:
        """One row per rule: id, description, severity, the standard it enforces."""
        columns = ["id", "description", "severity", "standard", "source_url"]
        return pl.DataFrame([{c: rule[c] for c in columns} for rule in self.rules]).rename(
            {"id": "rule_id"}
        )

    @property
    def needs_action(self) -> list[str]:
        """The outcomes a coder must act on, in catalogue order."""
        return [o["outcome"] for o in self.outcomes if o["needs_action"]]

    def outcome_table(self) -> pl.DataFrame:
        return pl.DataFrame(self.outcomes)


@cache
def load_catalogue(path=CATALOGUE_PATH) -> Catalogue:
    with open(path, "rb") as file:
        data = tomllib.load(file)
    for rule in data["rules"]:
        query = ROOT / "sql" / "rules" / f"{rule['id']}.sql"
        if not query.exists():
            raise FileNotFoundError(f"rule {rule['id']} has no query at sql/rules/{query.name}")
    return Catalogue(version=data["version"], rules=data["rules"], outcomes=data["outcomes"])
