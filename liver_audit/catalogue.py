"""The rule catalogue: one folder per rule under the rules folder (rules/README.md).

A rule folder holds rule.toml (what it checks, the standards it enforces, its code lists
and its own outcomes), query.sql (its findings) and cases.md (its cases as a pipe table).
Loading checks each folder's shape and says in one line what is wrong; the tables built
here are what the warehouse holds of the catalogue (rule_catalogue, rule_codes, ...).
"""

import csv
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import polars as pl

from liver_audit import ROOT
from liver_audit.errors import UnusableInput

RULES_DIR = ROOT / "rules"
OPCS_VERSIONS = ROOT / "data" / "reference" / "opcs_versions.csv"
SEVERITIES = ["pass", "info", "warning", "error"]
CASE_COLUMNS = ["case", "codes", "theatre", "date", "outcomes", "standard"]


@dataclass(frozen=True)
class Outcome:
    outcome: str
    severity: str  # pass, info, warning or error; `pass` outcomes count as compliant
    needs_action: bool
    description: str


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    checks: str  # one sentence on what it checks
    standards: list[dict]  # id, document, section, page, url
    opcs_versions: list[str]
    code_lists: dict[str, list[str]]
    code_maps: dict[str, list[dict]]
    outcomes: list[Outcome]
    query: str
    cases: list[dict] = field(default_factory=list)
    folder: Path | None = None

    @property
    def needs_action(self) -> list[str]:
        return [o.outcome for o in self.outcomes if o.needs_action]

    @property
    def citation(self) -> str:
        """The standards' ids, as a finding cites them when its query names none."""
        return ", ".join(s["id"] for s in self.standards)


@dataclass(frozen=True)
class Catalogue:
    version: str  # from the rules' definitions and queries: any change gives a new one
    rules: list[Rule]
    folder: Path

    def rule(self, rule_id: str) -> Rule:
        return next(rule for rule in self.rules if rule.id == rule_id)

    def tables(self) -> dict[str, pl.DataFrame]:
        """The catalogue as the warehouse's rule_* tables (the rule queries join to them)."""
        versions = opcs_versions()
        rank = {v["version"]: int(v["rank"]) for v in versions}
        maps = []
        for rule in self.rules:
            for name, entries in rule.code_maps.items():
                for entry in entries:
                    first = rank[entry.get("from", versions[0]["version"])]
                    last = rank[entry.get("until", versions[-1]["version"])]
                    maps += [
                        (rule.id, name, entry["key"], entry["code"], v["version"])
                        for v in versions
                        if first <= int(v["rank"]) <= last
                    ]
        return {
            "rule_catalogue": pl.DataFrame(
                [
                    {
                        "rule_id": r.id,
                        "title": r.title,
                        "checks": r.checks,
                        "standards": r.citation,
                        "opcs_versions": ", ".join(r.opcs_versions),
                        "catalogue_version": self.version,
                        "query": r.query,
                    }
                    for r in self.rules
                ],  # fmt: skip
                schema=dict.fromkeys(
                    [
                        "rule_id",
                        "title",
                        "checks",
                        "standards",
                        "opcs_versions",
                        "catalogue_version",
                        "query",
                    ],
                    pl.String,
                ),  # fmt: skip
            ),
            "rule_opcs_versions": pl.DataFrame(
                [(r.id, version) for r in self.rules for version in r.opcs_versions],
                schema=dict.fromkeys(["rule_id", "opcs_version"], pl.String),
                orient="row",
            ),
            "rule_standards": pl.DataFrame(
                [
                    {
                        "rule_id": r.id,
                        "standard": s["id"],
                        "document": s["document"],
                        "section": s.get("section"),
                        "page": s.get("page"),
                        "url": s.get("url"),
                    }
                    for r in self.rules
                    for s in r.standards
                ],  # fmt: skip
                schema=dict.fromkeys(
                    ["rule_id", "standard", "document", "section", "page", "url"], pl.String
                ),
            ),
            "rule_codes": pl.DataFrame(
                [
                    (r.id, name, code)
                    for r in self.rules
                    for name, codes in r.code_lists.items()
                    for code in codes
                ],
                schema=dict.fromkeys(["rule_id", "list", "code"], pl.String),
                orient="row",
            ),
            "rule_code_maps": pl.DataFrame(
                maps,
                schema=dict.fromkeys(["rule_id", "map", "key", "code", "opcs_version"], pl.String),
                orient="row",
            ),
            "rule_outcomes": pl.DataFrame(
                [
                    {
                        "rule_id": r.id,
                        "outcome": o.outcome,
                        "severity": o.severity,
                        "needs_action": o.needs_action,
                        "description": o.description,
                        "rank": rank_,
                    }
                    for r in self.rules
                    for rank_, o in enumerate(r.outcomes)
                ],  # fmt: skip
                schema={
                    "rule_id": pl.String,
                    "outcome": pl.String,
                    "severity": pl.String,
                    "needs_action": pl.Boolean,
                    "description": pl.String,
                    "rank": pl.Int32,
                },  # fmt: skip
            ),
            "rule_cases": pl.DataFrame(
                [{"rule_id": r.id, **case} for r in self.rules for case in r.cases],
                schema=dict.fromkeys(["rule_id", *CASE_COLUMNS], pl.String),
            ),
        }


@cache
def opcs_versions() -> list[dict]:
    """The OPCS-4 versions and the days each was in force (data/reference/opcs_versions.csv),
    oldest first."""
    with open(OPCS_VERSIONS, newline="") as file:
        return sorted(csv.DictReader(file), key=lambda v: int(v["rank"]))


def load_catalogue(folder: str | Path = RULES_DIR) -> Catalogue:
    return _load(Path(folder).resolve())


@cache
def _load(folder: Path) -> Catalogue:
    if not folder.is_dir():
        raise UnusableInput(f"{folder}: no such rules folder")
    rules = [load_rule(path) for path in sorted(folder.iterdir()) if (path / "rule.toml").is_file()]
    if not rules:
        raise UnusableInput(f"{folder}: no rule folders (each needs a rule.toml)")
    digest = hashlib.sha256()
    for rule in rules:
        for name in ("rule.toml", "query.sql"):
            digest.update(f"{rule.id}/{name}\0".encode() + (rule.folder / name).read_bytes())
    return Catalogue(version=digest.hexdigest()[:12], rules=rules, folder=folder)


def load_rule(folder: Path) -> Rule:
    """One rule folder, checked: a problem is one line naming the file and the field."""
    definition = folder / "rule.toml"
    try:
        data = tomllib.loads(definition.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UnusableInput(f"{definition}: not valid TOML ({error})") from None

    def need(key: str, kind: type):
        if not isinstance(data.get(key), kind):
            raise UnusableInput(f"{definition}: field {key} missing or not a {kind.__name__}")
        return data[key]

    if need("id", str) != folder.name:
        raise UnusableInput(f"{definition}: field id must be the folder's name, {folder.name}")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", folder.name):
        raise UnusableInput(f"{definition}: a rule's id is lower-case letters, digits and _")
    known = {v["version"] for v in opcs_versions()}
    versions = need("opcs_versions", list)
    if not set(versions) <= known:
        raise UnusableInput(
            f"{definition}: field opcs_versions: known versions are {sorted(known)}"
        )
    standards = need("standards", list)
    for number, standard in enumerate(standards, 1):
        if not (standard.get("id") and standard.get("document")):
            raise UnusableInput(f"{definition}: standards entry {number} needs id and document")
    outcomes = []
    for number, entry in enumerate(need("outcomes", list), 1):
        try:
            outcome = Outcome(
                entry["outcome"], entry["severity"], entry["needs_action"], entry["description"]
            )
        except (KeyError, TypeError):
            raise UnusableInput(
                f"{definition}: outcomes entry {number} needs outcome, severity, needs_action "
                "and description"
            ) from None
        if outcome.severity not in SEVERITIES:
            raise UnusableInput(
                f"{definition}: outcomes entry {number}: severity must be one of {', '.join(SEVERITIES)}"
            )
        outcomes.append(outcome)
    code_maps = data.get("code_maps", {})
    for name, entries in code_maps.items():
        for number, entry in enumerate(entries, 1):
            if not {"key", "code"} <= set(entry) or not {
                entry.get("from"),
                entry.get("until"),
            } <= known | {None}:
                raise UnusableInput(
                    f"{definition}: code_maps.{name} entry {number} needs key and code, and "
                    "from/until must be known OPCS versions"
                )
    query = folder / "query.sql"
    if not query.is_file():
        raise UnusableInput(f"{folder}: rule has no query.sql")
    return Rule(
        id=data["id"],
        title=need("title", str),
        checks=need("checks", str),
        standards=standards,
        opcs_versions=versions,
        code_lists=data.get("code_lists", {}),
        code_maps=code_maps,
        outcomes=outcomes,
        query=query.read_text(),
        cases=read_cases(folder / "cases.md"),
        folder=folder,
    )


def read_cases(path: Path) -> list[dict]:
    """The rows of the first pipe table in cases.md (header, then a |---| line, then rows)."""
    if not path.is_file():
        raise UnusableInput(f"{path.parent}: rule has no cases.md")
    lines = [line.strip() for line in path.read_text().splitlines()]
    table = [line for line in lines if line.startswith("|")]
    if len(table) < 3:
        raise UnusableInput(f"{path}: no table of cases")
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    if header != CASE_COLUMNS:
        raise UnusableInput(f"{path}: row 1: the columns must be {' | '.join(CASE_COLUMNS)}")
    cases = []
    for number, line in enumerate(table[2:], 3):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) != len(header):
            raise UnusableInput(f"{path}: row {number}: {len(cells)} cells, expected {len(header)}")
        cases.append(dict(zip(header, cells, strict=True)))
    return cases
