"""Settings: defaults, then liver-audit.toml, then command-line flags (the last one set wins).

Paths in the TOML file are relative to the file's folder; paths given as flags are relative
to the working directory. A few knobs are environment variables only (ENVIRONMENT): those a
run reads are settings too. `liver-audit config` prints the effective settings, the
environment knobs, and where each came from.
"""

import os
import re
import tomllib
from dataclasses import dataclass, fields, replace
from datetime import date
from pathlib import Path

from liver_audit import ROOT
from liver_audit.errors import UnusableInput
from liver_audit.layouts import layouts_of

CONFIG_FILE = "liver-audit.toml"


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    kind: type  # str, int or bool; Path for paths
    help: str


SETTINGS = [
    Setting("warehouse", "data/warehouse.duckdb", Path, "DuckDB warehouse file"),
    Setting("inbox", None, Path, "folder of delivered extracts and theatre files to pick up"),
    Setting("reports", "reports", Path, "folder that gets a folder of audit files per run"),
    Setting(
        "move_processed",
        False,
        bool,
        "move files loaded (or refused) from the inbox to INBOX/processed/ (or INBOX/refused/)",
    ),  # fmt: skip
    Setting("schedule", "0 2 * * *", str, "cron schedule of the nightly run"),
    Setting("timezone", "Europe/London", str, "timezone of the schedule (IANA name)"),
    Setting(
        "synonyms",
        str(ROOT / "data/reference/approach_synonyms.csv"),
        Path,
        "approach synonym table (CSV: synonym, approach)",
    ),  # fmt: skip
    Setting(
        "parquet",
        None,
        Path,
        "also write the warehouse as Hive-partitioned Parquet (financial year, provider) here",
    ),
    Setting(
        "wait_for_warehouse",
        0,
        int,
        "seconds to wait for another run to finish with the warehouse before giving up",
    ),  # fmt: skip
    Setting(
        "work_pool",
        None,
        str,
        "fan out: Prefect work pool whose workers read, stage and validate the files "
        "(needs PREFECT_API_URL and work_folder)",
    ),
    Setting(
        "work_folder",
        None,
        Path,
        "fan out: a folder the run and every worker share (same path on each machine)",
    ),
    Setting(
        "share_with_group",
        False,
        bool,
        "files and folders written (warehouse, kept copies, audit files, Parquet) readable "
        "and writable by your group too (0660/0770), not by you only (0600/0700)",
    ),
    Setting(
        "rules",
        str(ROOT / "rules"),
        Path,
        "folder of rule folders, one per rule (rules/<rule_id>/)",
    ),  # fmt: skip
    Setting(
        "opcs_version_date",
        "procedure_date",
        str,
        "which date decides the OPCS-4 version in force: procedure_date (the procedure's "
        "date, else the episode end), episode_end, episode_start or admission",
    ),
    Setting(
        "code_check_scope",
        "liver_episodes",
        str,
        "whose codes the OPCS-4 and ICD-10 code checks judge: liver_episodes (those with a "
        "liver procedure, J01-J12) or all_episodes (a national data-quality check: outside "
        "liver episodes only the findings that need action are recorded)",
    ),
    Setting(
        "layout",
        None,
        str,
        "the layout the episode extracts are read by (default: the one whose columns each "
        "file has; `liver-audit layouts` lists them, [layouts.NAME] in liver-audit.toml adds one)",
    ),
    # What the report and worklist cover: the standing position, optionally narrowed.
    Setting("since", None, str, "report only episodes ending on or after this date (YYYY-MM-DD)"),
    Setting("provider", None, str, "report only this provider's episodes (provider code)"),
    Setting(
        "financial_year",
        None,
        str,
        "report only episodes ending in this financial year (2025-26: April 2025 to March 2026)",
    ),  # fmt: skip
    Setting(
        "compliant_sample",
        5.0,
        float,
        "percent of compliant findings put to the auditors in the worklist, to measure what "
        "the rules miss (0 to 100)",
    ),
    Setting(
        "sample_seed",
        0,
        int,
        "seed of the compliant sample: the same seed draws the same findings",
    ),
]
BY_NAME = {setting.name: setting for setting in SETTINGS}
OPCS_VERSION_DATES = ["procedure_date", "episode_end", "episode_start", "admission"]
CODE_CHECK_SCOPES = ["liver_episodes", "all_episodes"]


@dataclass(frozen=True)
class Knob:
    """An environment variable liver-audit reads. One a run reads fills a setting (never
    set in liver-audit.toml or by a flag); the others belong to the process."""

    variable: str
    default: object  # None: not set
    kind: type
    help: str
    setting: str | None = None


ENVIRONMENT = [
    Knob("LIVER_AUDIT_CONFIG", None, Path,
         f"the settings file when --config is not given (default: ./{CONFIG_FILE} if there)"),
    Knob("LIVER_AUDIT_MEMORY_LIMIT", "2GB", str,
         "DuckDB's memory limit; beyond it DuckDB spills to <warehouse file>.tmp/",
         "memory_limit"),
    Knob("LIVER_AUDIT_LOAD_WORKERS", 2, int,
         "files a run reads and validates side by side", "load_workers"),
    Knob("LIVER_AUDIT_WORKER_TIMEOUT", 300.0, float,
         "fan out: seconds a worker may go without a heartbeat (or a pool without a worker "
         "online) before its file is handed out again (or fails)", "worker_timeout"),
    Knob("LIVER_AUDIT_WORKER", None, str,
         "fan out, on a worker: its name in run_stages (default: the host name)"),
    Knob("LIVER_AUDIT_DEBUG", None, str,
         "1: errors keep their messages, which can quote row values (synthetic data only)"),
]  # fmt: skip
KNOBS = {knob.variable: knob for knob in ENVIRONMENT}


def from_environment(variable: str) -> tuple[object, str]:
    """An environment knob's value and where it came from ('environment' or 'default')."""
    knob = KNOBS[variable]
    text = os.environ.get(variable)
    if not text:
        return knob.default, "default"
    try:
        return knob.kind(text), "environment"
    except ValueError:
        raise UnusableInput(f"{variable}: '{text}' is not {knob.kind.__name__}") from None


@dataclass(frozen=True)
class Settings:
    warehouse: Path
    inbox: Path | None
    reports: Path
    move_processed: bool
    schedule: str
    timezone: str
    synonyms: Path
    parquet: Path | None
    wait_for_warehouse: int
    work_pool: str | None
    work_folder: Path | None
    share_with_group: bool
    rules: Path
    opcs_version_date: str
    code_check_scope: str
    since: str | None
    provider: str | None
    financial_year: str | None
    compliant_sample: float
    sample_seed: int
    layout: str | None
    # [layouts.NAME] tables of liver-audit.toml: a trust's own layouts (liver_audit/layouts.py)
    layouts: dict
    # from the environment only (ENVIRONMENT)
    memory_limit: str
    load_workers: int
    worker_timeout: float
    sources: dict  # setting name -> where its value came from

    def as_dict(self) -> dict:
        """The settings of SETTINGS (those liver-audit.toml and flags set)."""
        return {name: getattr(self, name) for name in BY_NAME}

    def absolute(self) -> "Settings":
        """The same settings with every path absolute: for flow runs that start elsewhere (a
        deployment's runs start in a subprocess of the serve process)."""
        paths = {
            f.name: getattr(self, f.name).resolve()
            for f in fields(self)
            if isinstance(getattr(self, f.name), Path)
        }
        return replace(self, **paths)

    def as_parameter(self) -> dict:
        """The settings as a flow parameter a deployment stores (JSON); the flow reads it
        back into Settings."""
        return {
            f.name: str(value) if isinstance(value, Path) else value
            for f in fields(self)
            for value in [getattr(self, f.name)]
        }


def config_path(flag: str | None) -> tuple[Path, bool]:
    """The config file to read, and whether the user named it (then it must exist)."""
    if flag:
        return Path(flag), True
    path, source = from_environment("LIVER_AUDIT_CONFIG")
    if source == "environment":
        return path, True
    return Path(CONFIG_FILE), False


def read_config_file(path: Path, required: bool) -> dict:
    if not path.is_file():
        if required:
            raise UnusableInput(f"{path}: no such config file")
        return {}
    try:
        values = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UnusableInput(f"{path}: not valid TOML ({error})") from None
    for name, value in values.items():
        if name == "layouts":
            if not isinstance(value, dict):
                raise UnusableInput(f"{path}: layouts must be tables: [layouts.NAME]")
            continue
        setting = BY_NAME.get(name)
        if setting is None:
            raise UnusableInput(
                f"{path}: unknown setting '{name}' (known: {', '.join(BY_NAME)}, [layouts.NAME])"
            )
        expected = str if setting.kind is Path else setting.kind
        if setting.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = values[name] = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise UnusableInput(f"{path}: setting '{name}' must be {expected.__name__}")
    return values


def load_settings(flags: dict, config_flag: str | None = None) -> Settings:
    """Effective settings: defaults < the config file < flags (None = flag not given)."""
    path, required = config_path(config_flag)
    from_file = read_config_file(path, required)
    values, sources = {}, {}
    for setting in SETTINGS:
        value, source = setting.default, "default"
        if setting.name in from_file:
            value, source = from_file[setting.name], str(path)
            if setting.kind is Path:
                value = path.parent / value
        if flags.get(setting.name) is not None:
            value, source = flags[setting.name], "--" + setting.name.replace("_", "-")
        if setting.kind is Path and value is not None:
            value = Path(value)
        values[setting.name], sources[setting.name] = value, source
    values["layouts"] = from_file.get("layouts", {})
    sources["layouts"] = str(path) if "layouts" in from_file else "default"
    return with_environment(values, sources)


def default_settings(**values) -> Settings:
    """The defaults, with `values` where given (no config file, no flags): for running the
    flow from code, as the tests do (`layouts`: [layouts.NAME] tables, as a dict)."""
    layouts = values.pop("layouts", {})
    unknown = set(values) - set(BY_NAME)
    if unknown:
        raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    chosen, sources = {}, {}
    for setting in SETTINGS:
        value = values.get(setting.name, setting.default)
        if setting.kind is Path and value is not None:
            value = Path(value)
        chosen[setting.name] = value
        sources[setting.name] = "argument" if setting.name in values else "default"
    chosen["layouts"], sources["layouts"] = layouts, "argument" if layouts else "default"
    return with_environment(chosen, sources)


def with_environment(values: dict, sources: dict) -> Settings:
    """The settings, with those the environment sets (ENVIRONMENT); checked."""
    for knob in ENVIRONMENT:
        if knob.setting:
            values[knob.setting], source = from_environment(knob.variable)
            sources[knob.setting] = knob.variable if source == "environment" else source
    settings = Settings(**values, sources=sources)
    check_values(settings)
    return settings


def check_values(settings: Settings) -> None:
    """Each setting with a closed set of values holds one of them: one line naming the
    setting and where it was set."""

    def refuse(name: str, expected: str):
        value = getattr(settings, name)
        raise UnusableInput(f"{settings.sources[name]}: {name} '{value}' is not {expected}")

    if settings.opcs_version_date not in OPCS_VERSION_DATES:
        refuse("opcs_version_date",
               f"one of {', '.join(OPCS_VERSION_DATES[:-1])} or {OPCS_VERSION_DATES[-1]}")  # fmt: skip
    if settings.code_check_scope not in CODE_CHECK_SCOPES:
        refuse("code_check_scope", " or ".join(CODE_CHECK_SCOPES))
    if settings.since is not None:
        try:  # fromisoformat also takes 20250401 and 2025-W14-1, which DuckDB does not
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", settings.since):
                raise ValueError
            date.fromisoformat(settings.since)
        except ValueError:
            refuse("since", "a date (YYYY-MM-DD)")
    year = settings.financial_year
    if year is not None and not (
        re.fullmatch(r"\d{4}-\d{2}", year) and (int(year[:4]) + 1) % 100 == int(year[5:])
    ):
        refuse("financial_year", "a financial year (YYYY-YY, such as 2025-26)")
    if not 0 <= settings.compliant_sample <= 100:
        refuse("compliant_sample", "a percent from 0 to 100")
    layouts = layouts_of(settings)  # each checked: one line naming the layout and field
    if settings.layout is not None and settings.layout not in layouts:
        refuse("layout", f"a layout ({', '.join(layouts)})")


# Carries share_with_group to the processes a command starts (serve's flow runs), and to
# modes set explicitly (private_mode); the CLI sets it from the settings.
SHARE_ENV = "LIVER_AUDIT_SHARE_WITH_GROUP"


def share_files(share_with_group: bool) -> None:
    """Files and folders this process (and those it starts) creates: owner only, or owner
    and group. Set as the umask, first thing, so that every file DuckDB, openpyxl and
    Prefect's server create follows it, whoever's code creates it."""
    os.environ[SHARE_ENV] = "1" if share_with_group else "0"
    os.umask(0o007 if share_with_group else 0o077)


def private_mode(folder: bool = False) -> int:
    """The mode of a file (or folder) of patient data made with an explicit mode: 0600
    (0700), or 0660 (0770) when shared with the group. Never anyone else's."""
    shared = os.environ.get(SHARE_ENV) == "1"
    return (0o770 if shared else 0o700) if folder else (0o660 if shared else 0o600)


def check_schedule(settings: Settings) -> None:
    """The schedule is a cron string Prefect accepts, in a timezone that exists. (Imports
    Prefect: call it only where Prefect's API URL is settled.)"""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from prefect.client.schemas.schedules import validate_cron_string

    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        where = settings.sources["timezone"]
        raise UnusableInput(f"{where}: unknown timezone '{settings.timezone}'") from None
    try:
        validate_cron_string(settings.schedule)
    except ValueError:
        where = settings.sources["schedule"]
        raise UnusableInput(
            f"{where}: '{settings.schedule}' is not a valid cron schedule"
        ) from None


def add_setting_flags(parser, names: list[str]) -> None:
    """One flag per named setting, e.g. --warehouse PATH, --move-processed/--no-move-processed;
    every flag defaults to None so that the config file's value shows through."""
    import argparse

    for name in names:
        setting = BY_NAME[name]
        flag = "--" + name.replace("_", "-")
        shown = "" if setting.default is None else f" (default: {setting.default})"
        if setting.kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None,
                                help=setting.help + shown)  # fmt: skip
        else:
            parser.add_argument(
                flag,
                dest=name,
                metavar=name.upper() if setting.kind is not Path else "PATH",
                type=setting.kind if setting.kind in (int, float) else str,
                default=None,
                help=setting.help + shown,
            )
