"""Layouts: how an episode extract names the warehouse's fields. A layout is data: the
shipped ones in data/layouts/<name>.toml, a trust's own in liver-audit.toml ([layouts.NAME]).
A file is read by the layout whose columns it has (recognise), or the one the setting
`layout` names; the staging queries in sql/ read its columns under fixed names."""

import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from liver_audit import ROOT
from liver_audit.errors import UnusableInput

LAYOUTS_DIR = ROOT / "data" / "layouts"
# The warehouse's episode fields a layout maps (which are required: _Definition), and the
# fixed name the staging view (extracts.py) gives each, in the order sql/ reads them.
STAGED_NAMES = {
    "episode_id": "epikey",
    "provider_code": "procode3",
    "admission_date": "admidate",
    "episode_start_date": "epistart",
    "episode_end_date": "epiend",
    "sex": "sex",
    "start_age": "startage",
}
DATE_FIELDS = ("admission_date", "episode_start_date", "episode_end_date")
# A long layout's files, each one table of it: the file kind each is loaded as. A file is
# the first of these whose columns it has (a procedures file may carry the episode's dates).
LONG_KINDS = {
    "procedures": "episode_procedures",
    "diagnoses": "episode_diagnoses",
    "episodes": "episode_extract",
}
# A file kind -> the layout's table it is (an episode extract's fields are its episodes')
TABLE_OF_KIND = {kind: table for table, kind in LONG_KINDS.items()}
# The parts of a composite episode id (UK Biobank's eid + ins_index) are joined so.
ID_SEPARATOR = ":"
PLACEHOLDER = re.compile(r"\{(nn|n)\}")


@dataclass(frozen=True)
class Layout:
    """One layout, checked: `columns` maps each episode field it names to the file's column
    (upper case and trimmed, as files' columns are compared); the numbered fields hold the
    ways a file may name them, each a tuple of names and patterns in position order."""

    name: str
    title: str
    source: str
    dates: str
    columns: dict[str, str]
    procedure_codes: tuple[tuple[str, ...], ...]
    procedure_dates: tuple[tuple[str, ...], ...]
    diagnosis_codes: tuple[tuple[str, ...], ...]
    defined_in: str  # the file that defines it
    shape: str = "wide"  # wide: one row per episode; long: a file per table (`tables`)
    # long: each table's columns, by field: "episodes", "procedures", "diagnoses" (_Long*)
    tables: dict = field(default_factory=dict)
    provider: str | None = None  # the provider code every episode gets, where no column has it

    def as_parameter(self) -> dict:
        """As a flow parameter (JSON): a fanned-out file's layout reaches its worker so."""
        return asdict(self)

    @classmethod
    def from_parameter(cls, value: dict) -> "Layout":
        ways = ("procedure_codes", "procedure_dates", "diagnosis_codes")
        return cls(**{k: tuple(map(tuple, v)) if k in ways else v for k, v in value.items()})

    def required_columns(self, table: str = "episodes") -> list[str]:
        if self.shape == "wide":
            return list(self.columns.values())
        return _table_columns(self.tables[table])

    def table_of(self, columns: list[str]) -> str | None:
        """A long layout's table whose columns the file has (None: none of them)."""
        for table in LONG_KINDS:
            if table in self.tables and not self._lacks(table, columns):
                return table
        return None

    def kind_of(self, columns: list[str]) -> str:
        """The file kind a file this layout fits is loaded as."""
        return "episode_extract" if self.shape == "wide" else LONG_KINDS[self.table_of(columns)]

    def _lacks(self, table: str, columns: list[str]) -> list[str]:
        return [column for column in self.required_columns(table) if column not in columns]

    def procedure_columns(self, columns: list[str]) -> dict[int, str]:
        return positions(self.procedure_codes, columns)

    def date_columns(self, columns: list[str]) -> dict[int, str]:
        return positions(self.procedure_dates, columns)

    def diagnosis_columns(self, columns: list[str]) -> dict[int, str]:
        return positions(self.diagnosis_codes, columns)

    def missing_columns(self, columns: list[str]) -> list[str]:
        """The columns this layout needs that the file lacks (by the names a user knows); a
        long layout's, those of its nearest table."""
        if self.shape == "long":
            return self._lacks(self._nearest_table(columns), columns)
        missing = [column for column in self.required_columns() if column not in columns]
        if not self.procedure_columns(columns):
            missing.append(
                " or ".join(as_said(shown(way)) for way in self.procedure_codes)
            )  # fmt: skip
        return missing

    def nearness(self, columns: list[str]) -> tuple[int, bool, int]:
        """How near the file is to fitting: the layout's columns it has, then a wide layout
        (an episode extract is the usual file), then fewest lacking (a long layout's, by its
        nearest table)."""
        if self.shape == "long":
            having, lacking = self._table_nearness(self._nearest_table(columns), columns)
            return having, False, lacking
        lacking = len(self.missing_columns(columns))
        return len(self.required_columns()) + 1 - lacking, True, -lacking

    def _nearest_table(self, columns: list[str]) -> str:
        tables = [table for table in LONG_KINDS if table in self.tables]
        return max(tables, key=lambda table: self._table_nearness(table, columns))

    def _table_nearness(self, table: str, columns: list[str]) -> tuple[int, int]:
        """A long layout's table's columns the file has, and minus those it lacks."""
        lacking = len(self._lacks(table, columns))
        return len(self.required_columns(table)) - lacking, -lacking

    def source_fields(self, table: str = "episodes") -> dict[str, str]:
        """Staged column -> the file's column(s) a user knows it by (quarantine's `field`):
        an episode extract's, or a long layout's table's."""
        if self.shape == "wide":
            named = self.columns
        else:
            named = {
                name: " + ".join([value] if isinstance(value, str) else value)
                for name, value in self.tables[table].items()
                if name != "first_position" and value is not None
            }
        staged = {
            "episode_id": "episode_id",
            "episode_id_copies": "episode_id",
            "provider_code": "provider_code",
            "admission_date_text": "admission_date",
            "episode_start_text": "episode_start_date",
            "episode_end_text": "episode_end_date",
            "sex": "sex",
            "start_age_text": "start_age",
            "position_text": "position",
            "procedure_code": "code",
            "procedure_date_text": "date",
            "diagnosis_code_text": "code",
        }
        return {name: named[f] for name, f in staged.items() if f in named}


def positions(ways: tuple[tuple[str, ...], ...], columns: list[str]) -> dict[int, str]:
    """Position -> column, by the first way of naming the file has any column of. In a way,
    a plain name is the position of its place in the list (the first, 1), and a pattern
    ({n} or {nn}) the position its number says; plain names come first (parse_layout). Where
    two columns give one position the first is taken: recognise refuses such a file."""
    for way in ways:
        found: dict[int, str] = {}
        for position, column in _matches(way, columns):
            found.setdefault(position, column)
        if found:
            return found
    return {}


def clash(ways: tuple[tuple[str, ...], ...], columns: list[str]) -> str | None:
    """What makes the file's numbered columns ambiguous by the way it uses, if anything: two
    columns at one position, or one column at two."""
    for way in ways:
        pairs = _matches(way, columns)
        if not pairs:
            continue
        for position, column in pairs:
            for other_position, other in pairs:
                if position == other_position and column != other:
                    return f"columns {column} and {other} are both position {position}"
                if column == other and position != other_position:
                    return f"column {column} is both position {position} and {other_position}"
        return None
    return None


def _matches(way: tuple[str, ...], columns: list[str]) -> list[tuple[int, str]]:
    """(position, column) for each of the file's columns a way names, in the way's order."""
    pairs = []
    for place, name in enumerate(way, start=1):
        if not PLACEHOLDER.search(name):
            pairs += [(place, name)] if name in columns else []
            continue
        # split on the placeholder: literal text at even places, the placeholder at odd
        pattern = "".join(
            re.escape(part) if i % 2 == 0 else r"(\d{2})" if part == "nn" else r"(\d+)"
            for i, part in enumerate(PLACEHOLDER.split(name))
        )
        for column in columns:
            match = re.fullmatch(pattern, column)
            if match and int(match.group(1)) >= 1:
                pairs.append((int(match.group(1)), column))
    return pairs


def column_name(name: str) -> str:
    """A column name as files' columns are compared (trimmed, upper case), placeholders
    ({n}, {nn}) kept."""
    parts = PLACEHOLDER.split(name.strip())
    return "".join(part.upper() if place % 2 == 0 else "{" + part + "}"
                   for place, part in enumerate(parts))  # fmt: skip


def shown(way: tuple[str, ...]) -> str:
    return " + ".join(way)


def as_said(name: str) -> str:
    """A pattern as messages name numbered columns: OPERTN_4_{nn} -> OPERTN_4_nn."""
    return name.replace("{nn}", "nn").replace("{n}", "n")


Column = Field(min_length=1)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Provider(_Strict):
    """An episode's provider: the column that holds it, or one code for every episode
    (`provider`), for data that carries none (CPRD's HES APC has no provider column)."""

    provider_code: str | None = Field(None, min_length=1)
    provider: str | None = Field(None, pattern=r"^[A-Z0-9]{3,5}$")

    @model_validator(mode="after")
    def _one_provider(self):
        if self.provider_code is None and self.provider is None:
            raise ValueError("give provider_code (a column) or provider (one code)")
        if self.provider_code is not None and self.provider is not None:
            raise ValueError("give provider_code (a column) or provider (one code), not both")
        return self


class _Definition(_Provider):
    """A layout's TOML, typed: an unknown key or a value of the wrong type is refused."""

    shape: Literal["wide"] = "wide"
    title: str = Field(min_length=1)
    source: str = Field(min_length=1)
    dates: Literal["YYYY-MM-DD", "DD/MM/YYYY"] = "YYYY-MM-DD"
    episode_id: str = Field(min_length=1)
    admission_date: str | None = Field(None, min_length=1)
    episode_start_date: str = Field(min_length=1)
    episode_end_date: str = Field(min_length=1)
    sex: str | None = Field(None, min_length=1)
    start_age: str | None = Field(None, min_length=1)
    procedure_codes: list[str | list[str]] = Field(min_length=1)
    procedure_dates: list[str | list[str]] = []
    diagnosis_codes: list[str | list[str]] = []


class _LongEpisodes(_Provider):
    """A long layout's episodes file: one row per episode. Its id may take several columns
    (UK Biobank: eid and ins_index)."""

    episode_id: list[str] = Field(min_length=1)
    admission_date: str | None = Field(None, min_length=1)
    episode_start_date: str = Field(min_length=1)
    episode_end_date: str = Field(min_length=1)
    sex: str | None = Field(None, min_length=1)
    start_age: str | None = Field(None, min_length=1)


class _LongCodes(_Strict):
    """A long layout's procedures or diagnoses file: one row per code, with its episode's
    id, its position (counted from first_position: UK Biobank's arr_index from 0) and the
    code (several columns are joined: CPRD's ICD and ICDx)."""

    episode_id: list[str] = Field(min_length=1)
    position: str = Field(min_length=1)
    first_position: Literal[0, 1] = 1
    code: str | list[str] = Field(min_length=1)


class _LongProcedures(_LongCodes):
    date: str | None = Field(None, min_length=1)


class _LongDefinition(_Strict):
    shape: Literal["long"]
    title: str = Field(min_length=1)
    source: str = Field(min_length=1)
    dates: Literal["YYYY-MM-DD", "DD/MM/YYYY"] = "YYYY-MM-DD"
    episodes: _LongEpisodes
    procedures: _LongProcedures
    diagnoses: _LongCodes | None = None


def _parse_long(name: str, data: dict, defined_in: str) -> Layout:
    """A long layout: a file per table, each recognised by its columns."""
    where = f"{defined_in}: layout {name}"
    definition = _validated(_LongDefinition, data, where)
    tables = {}
    for table in LONG_KINDS:
        part = getattr(definition, table)
        if part is None:
            continue
        columns = {}
        for f, value in part.model_dump().items():
            if value is None or f in ("provider", "first_position"):
                columns[f] = value
                continue
            names = [value] if isinstance(value, str) else value
            if any("{" in n or "}" in n or not n.strip() for n in names):
                raise UnusableInput(f"{where}: field {table}.{f}: a column name, no placeholder")
            names = [n.strip().upper() for n in names]
            columns[f] = names if f in ("episode_id", "code") else names[0]
        columns.pop("provider", None)
        tables[table] = columns
        named = [c for c in _table_columns(columns) if c not in columns["episode_id"]]
        named += columns["episode_id"]
        twice = sorted({c for c in named if named.count(c) > 1})
        if twice:
            raise UnusableInput(f"{where}: column {twice[0]} is named twice in {table}")
    return Layout(
        name=name,
        title=definition.title,
        source=definition.source,
        dates=definition.dates,
        columns={},
        procedure_codes=(),
        procedure_dates=(),
        diagnosis_codes=(),
        defined_in=defined_in,
        shape="long",
        tables=tables,
        provider=definition.episodes.provider,
    )


def _table_columns(columns: dict) -> list[str]:
    return [
        column
        for f, value in columns.items()
        if f != "first_position" and value is not None
        for column in ([value] if isinstance(value, str) else value)
    ]


def _validated(model: type[BaseModel], data: dict, where: str):
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]  # its msg names the problem, never the value
        # pydantic's location names each union member tried (str, list[str]): not a field
        tags = {"str", "list[str]", "int", "bool"}
        field = ".".join(p for p in first["loc"] if isinstance(p, str) and p not in tags)
        raise UnusableInput(f"{where}: field {field or '(the table)'}: {first['msg']}") from None


def parse_layout(name: str, data: dict, defined_in: str) -> Layout:
    """One layout from its TOML table, checked: a problem is one line naming where it is
    defined and the field."""
    where = f"{defined_in}: layout {name}"
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise UnusableInput(f"{where}: a layout's name is lower case letters, digits and _")
    if isinstance(data, dict) and data.get("shape") == "long":
        return _parse_long(name, data, defined_in)
    definition = _validated(_Definition, data, where)
    columns = {
        f: getattr(definition, f).strip().upper()
        for f in STAGED_NAMES
        if getattr(definition, f) is not None
    }
    named_twice = {c for c in columns.values() if list(columns.values()).count(c) > 1}
    if named_twice:
        raise UnusableInput(f"{where}: column {sorted(named_twice)[0]} is named for two fields")
    numbered = {}
    for f in ("procedure_codes", "procedure_dates", "diagnosis_codes"):
        ways = []
        for entry in getattr(definition, f):
            way = tuple(column_name(n) for n in ([entry] if isinstance(entry, str) else entry))
            if not way or not all(way):
                raise UnusableInput(f"{where}: field {f}: an empty column name")
            if any(
                p.group(1) not in ("n", "nn") for p in re.finditer(r"\{([^}]*)\}", "".join(way))
            ):
                raise UnusableInput(f"{where}: field {f}: a placeholder other than {{n}} or {{nn}}")
            if any(len(PLACEHOLDER.findall(n)) > 1 for n in way):
                raise UnusableInput(f"{where}: field {f}: a name with two placeholders")
            if len(set(way)) < len(way):
                raise UnusableInput(f"{where}: field {f}: a column named twice")
            patterned = [bool(PLACEHOLDER.search(n)) for n in way]
            if patterned != sorted(patterned):
                raise UnusableInput(
                    f"{where}: field {f}: a plain column name after a pattern (plain names "
                    "are positions 1, 2, ... in order, so they come first)"
                )
            ways.append(way)
        numbered[f] = tuple(ways)
    return Layout(
        name=name,
        title=definition.title,
        source=definition.source,
        dates=definition.dates,
        columns=columns,
        defined_in=defined_in,
        provider=definition.provider,
        **numbered,
    )


def shipped_layouts() -> dict[str, Layout]:
    """The layouts in data/layouts/, by name (the file's stem)."""
    layouts = {}
    for path in sorted(LAYOUTS_DIR.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise UnusableInput(f"{path}: not valid TOML ({error})") from None
        layouts[path.stem] = parse_layout(path.stem, data, str(path))
    return layouts


def all_layouts(defined: dict, defined_in: str) -> dict[str, Layout]:
    """The shipped layouts and those `defined` (liver-audit.toml's [layouts.NAME] tables,
    from `defined_in`); a trust's own may not take a shipped layout's name."""
    layouts = shipped_layouts()
    for name, data in defined.items():
        if name in layouts:
            raise UnusableInput(
                f"{defined_in}: layout {name}: a shipped layout has this name; choose another"
            )
        if not isinstance(data, dict):
            raise UnusableInput(f"{defined_in}: layout {name}: must be a table ([layouts.{name}])")
        layouts[name] = parse_layout(name, data, defined_in)
    return layouts


def recognise(
    path: Path, columns: list[str], layouts: dict[str, Layout], chosen: str | None
) -> Layout:
    """The layout an episode extract is read by: the one named (the setting `layout`), which
    the file must fit, or the one whose columns it has; none or two is one line saying so."""
    if chosen is not None:
        layout = layouts[chosen]
        missing = layout.missing_columns(columns)
        if missing:
            raise UnusableInput(
                f"{path}: row 0 (header): missing column(s) {', '.join(missing)} (layout {chosen})"
            )
        return unambiguous(path, layout, columns)
    fitting = [layout for layout in layouts.values() if not layout.missing_columns(columns)]
    if len(fitting) == 1:
        return unambiguous(path, fitting[0], columns)
    if len(fitting) > 1:
        names = ", ".join(layout.name for layout in fitting)
        raise UnusableInput(
            f"{path}: row 0 (header): fits layouts {names}: choose one (--layout NAME)"
        )
    # none: say what the nearest one lacks (the shipped HES layout when nothing is nearer)
    nearest = max(layouts.values(), key=lambda layout: layout.nearness(columns))
    missing = nearest.missing_columns(columns)
    suffix = "" if len(layouts) == 1 else f" (nearest layout: {nearest.name})"
    raise UnusableInput(f"{path}: row 0 (header): missing column(s) {', '.join(missing)}{suffix}")


def layouts_of(settings) -> dict[str, Layout]:
    """The layouts a run knows: the shipped ones and the settings' own (liver-audit.toml)."""
    return all_layouts(settings.layouts, settings.sources["layouts"])


def unambiguous(path: Path, layout: Layout, columns: list[str]) -> Layout:
    """The layout, if the file's numbered columns each give one position by it: a column
    read twice, or two for one position (one of them unread), would lose or merge codes."""
    for numbered in ("procedure_codes", "procedure_dates", "diagnosis_codes"):
        problem = clash(getattr(layout, numbered), columns)
        if problem:
            raise UnusableInput(
                f"{path}: row 0 (header): {problem} of {numbered} (layout {layout.name})"
            )
    return layout
