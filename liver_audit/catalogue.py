"""The rule catalogue: one folder per rule under the rules folder (rules/README.md).

A rule folder holds rule.toml (what it checks, the standards it enforces, its code lists
and its own outcomes), query.sql (its findings) and cases.md (its cases as a pipe table).
Loading checks each folder's shape and says in one line what is wrong; the tables built
here are what the warehouse holds of the catalogue (rule_catalogue, rule_codes, ...).
"""

import csv
import hashlib
import itertools
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal, get_args

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from liver_audit import ROOT
from liver_audit.errors import UnusableInput

RULES_DIR = ROOT / "rules"
OPCS_VERSIONS = ROOT / "data" / "reference" / "opcs_versions.csv"
Severity = Literal["pass", "info", "warning", "error"]  # `pass` outcomes count as compliant
# What a rule's findings are about: a procedure code (position = OPERTN_4_nn), or a diagnosis
# code (position = DIAG_4_nn: no procedure date or OPCS-4 version).
Assesses = Literal["procedures", "diagnoses"]
SEVERITIES = list(get_args(Severity))
CASE_COLUMNS = ["case", "codes", "diagnoses", "theatre", "date", "outcomes", "standard"]
# A rule that reads no diagnoses leaves their column out of its cases.md.
OPTIONAL_CASE_COLUMNS = {"diagnoses"}


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
    assesses: str = "procedures"
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
                        "assesses": r.assesses,
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
                        "assesses",
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
    """The rules of `folder`, read again whenever a file in it has changed (a long-lived
    `liver-audit serve` runs the rules as they are), else from memory."""
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise UnusableInput(f"{folder}: no such rules folder")
    files = sorted(path for path in folder.glob("*/*") if path.is_file())
    return _load(folder, tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files))


@cache
def _load(folder: Path, files: tuple) -> Catalogue:
    """`files`: each file's path, modification time and size, so that an edit is a new key."""
    rules = [load_rule(path) for path in sorted(folder.iterdir()) if (path / "rule.toml").is_file()]
    if not rules:
        raise UnusableInput(f"{folder}: no rule folders (each needs a rule.toml)")
    digest = hashlib.sha256()
    for rule in rules:
        for name in ("rule.toml", "query.sql"):
            digest.update(f"{rule.id}/{name}\0".encode() + (rule.folder / name).read_bytes())
    return Catalogue(version=digest.hexdigest()[:12], rules=rules, folder=folder)


class _Definition(BaseModel):
    """Every field of a rule.toml, typed: an unknown key, a missing one or a value of the
    wrong type is refused (a typo in needs_action must not pass as true)."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class StandardEntry(_Definition):
    id: str = Field(min_length=1)
    document: str = Field(min_length=1)
    section: str | None = None
    page: str | int | None = None
    url: str | None = None

    @model_validator(mode="after")
    def page_or_url(self):
        if self.page is None and not self.url:
            raise ValueError("needs a page or a url")
        return self


class OutcomeEntry(_Definition):
    outcome: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    severity: Severity
    needs_action: bool
    description: str = Field(min_length=1)

    @model_validator(mode="after")
    def compliant_needs_nothing(self):
        # counted once: compliant (pass), needing action, or other (summary_shareable.csv)
        if self.severity == "pass" and self.needs_action:
            raise ValueError("an outcome of severity pass needs no action")
        return self


class CodeMapEntry(_Definition):
    key: str = Field(min_length=1)
    code: str = Field(pattern=r"^[A-Z][0-9]{2,3}$")
    first: str | None = Field(None, alias="from")
    last: str | None = Field(None, alias="until")


class RuleDefinition(_Definition):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    checks: str = Field(min_length=1)
    opcs_versions: list[str] = Field(min_length=1)
    assesses: Assesses = "procedures"
    standards: list[StandardEntry] = Field(min_length=1)
    code_lists: dict[str, list[str]] = {}
    code_maps: dict[str, list[CodeMapEntry]] = {}
    outcomes: list[OutcomeEntry] = Field(min_length=1)


def load_rule(folder: Path) -> Rule:
    """One rule folder, checked: a problem is one line naming the file and the field."""
    definition = folder / "rule.toml"
    try:
        data = tomllib.loads(definition.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UnusableInput(f"{definition}: not valid TOML ({error})") from None
    try:
        rule = RuleDefinition.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]  # its msg names the problem, never the value
        raise UnusableInput(
            f"{definition}: field {field_name(first['loc'])}: {first['msg']}"
        ) from None
    if rule.id != folder.name:
        raise UnusableInput(f"{definition}: field id must be the folder's name, {folder.name}")
    versions = [v["version"] for v in opcs_versions()]
    check_versions(definition, "opcs_versions", rule.opcs_versions, versions)
    names = [o.outcome for o in rule.outcomes]
    if len(set(names)) != len(names):
        raise UnusableInput(f"{definition}: field outcomes: an outcome is declared twice")
    for name, entries in rule.code_maps.items():
        spans = []
        for number, entry in enumerate(entries, 1):
            where = f"code_maps.{name} entry {number}"
            check_versions(definition, where, [v for v in (entry.first, entry.last) if v], versions)
            first = versions.index(entry.first) if entry.first else 0
            last = versions.index(entry.last) if entry.last else len(versions) - 1
            if any(key == entry.key and first <= b and a <= last for key, a, b in spans):
                raise UnusableInput(
                    f"{definition}: field {where}: key {entry.key} is mapped twice for one "
                    "OPCS-4 version"
                )
            spans.append((entry.key, first, last))
    return Rule(
        id=rule.id,
        title=rule.title,
        checks=rule.checks,
        standards=[s.model_dump(exclude_none=True) for s in rule.standards],
        opcs_versions=rule.opcs_versions,
        code_lists=rule.code_lists,
        code_maps={
            name: [e.model_dump(by_alias=True, exclude_none=True) for e in entries]
            for name, entries in rule.code_maps.items()
        },
        outcomes=[Outcome(**o.model_dump()) for o in rule.outcomes],
        query=read_text(folder / "query.sql"),
        cases=read_cases(folder / "cases.md"),
        folder=folder,
        assesses=rule.assesses,
    )


def field_name(location: tuple) -> str:
    """A field as rule.toml's author counts: ('outcomes', 1, 'severity') -> 'outcomes entry
    2: severity'."""
    name = ""
    for before, part in zip((None, *location), location, strict=False):
        if isinstance(part, int):
            name += f" entry {part + 1}"
        else:
            name += (": " if isinstance(before, int) else "." if name else "") + str(part)
    return name or "(the file)"


def check_versions(definition: Path, where: str, named: list[str], known: list[str]) -> None:
    unknown = [v for v in named if v not in known]
    if unknown:
        raise UnusableInput(
            f"{definition}: field {where}: an OPCS-4 version not in "
            f"data/reference/opcs_versions.csv (known: {', '.join(known)})"
        )


def read_text(path: Path) -> str:
    """A rule file's text: there, and UTF-8."""
    if not path.is_file():
        raise UnusableInput(f"{path.parent}: rule has no {path.name}")
    try:
        return path.read_text()
    except UnicodeDecodeError:
        raise UnusableInput(f"{path}: not UTF-8 text") from None


def read_cases(path: Path) -> list[dict]:
    """The rows of the first pipe table in cases.md (header, then a |---| line, then rows,
    up to the first line that is not a table row)."""
    lines = [line.strip() for line in read_text(path).splitlines()]
    start = next((n for n, line in enumerate(lines) if line.startswith("|")), len(lines))
    table = list(itertools.takewhile(lambda line: line.startswith("|"), lines[start:]))
    if len(table) < 3:
        raise UnusableInput(f"{path}: no table of cases")
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    if [column for column in CASE_COLUMNS if column in header] != header or not set(
        CASE_COLUMNS
    ) - OPTIONAL_CASE_COLUMNS <= set(header):
        raise UnusableInput(
            f"{path}: row 1: the columns must be {' | '.join(CASE_COLUMNS)} "
            f"({', '.join(sorted(OPTIONAL_CASE_COLUMNS))} may be left out)"
        )
    cases = []
    for number, line in enumerate(table[2:], 3):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) != len(header):
            raise UnusableInput(f"{path}: row {number}: {len(cells)} cells, expected {len(header)}")
        cases.append(dict.fromkeys(CASE_COLUMNS, ".") | dict(zip(header, cells, strict=True)))
    return cases
