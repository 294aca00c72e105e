"""Which files a run loads: the files it was given, or every file in the inbox. Each is
checked, hashed and looked up in the warehouse's ledger: content loaded before is skipped
(and said so), new or changed content is loaded, an unusable file is refused with its reason.
"""

import os
import shutil
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from liver_audit.errors import StageFailed, UnusableInput
from liver_audit.extracts import detect_format, header_columns, looks_like_theatre, start_hashing
from liver_audit.layouts import LONG_KINDS, Layout, recognise, shipped_layouts
from liver_audit.load import inspect_file
from liver_audit.warehouse import sql, utc_now

# Files still being copied in, or not deliveries at all, are left where they are.
IGNORED_SUFFIXES = {".part", ".partial", ".tmp", ".crdownload", ".lock"}
PROCESSED, REFUSED = "processed", "refused"


@dataclass
class Delivery:
    """One file and what this run does with it: load, skip or refuse."""

    path: str
    kind: str | None  # episode_extract, theatre_records; a long layout's episode_procedures
    # or episode_diagnoses
    action: str  # load, skip or refuse; failed if its load failed
    sha256: str | None = None
    reason: str | None = None  # skip or refuse: why, naming files, rows, fields; no values
    earlier_file_id: int | None = None  # skip: the load that has this content
    file_id: int | None = None  # load: its id, given in delivery order
    from_inbox: bool = False
    layout: Layout | None = None  # an episode extract's, decided here: how it names fields
    # A long layout's delivery is its files, loaded together: the episodes file's delivery
    # holds the others (companions); each of them names it (loaded_with).
    companions: list["Delivery"] = field(default_factory=list)
    loaded_with: str | None = None

    @property
    def files(self) -> list["Delivery"]:
        """The files loaded as this delivery: itself, and a long delivery's other files."""
        return [self, *self.companions]

    @property
    def name(self) -> str:
        return Path(self.path).name

    def as_dict(self) -> dict:
        return asdict(self)


def check_inbox(inbox: Path) -> None:
    """The inbox is a folder that exists (a file given as one is said to be a file)."""
    if inbox.exists() and not inbox.is_dir():
        raise UnusableInput(f"{inbox}: is a file, not a folder: --inbox takes the folder")
    if not inbox.is_dir():
        raise UnusableInput(f"{inbox}: no such inbox folder")


def inbox_files(inbox: Path) -> list[Path]:
    """The inbox's files in delivery order (modified time, then name): the latest delivery
    of an episode wins. Hidden files, partial copies and subfolders are left alone."""
    check_inbox(inbox)
    files = [
        path
        for path in inbox.iterdir()
        if path.is_file()
        and not path.name.startswith(".")
        and path.suffix.lower() not in IGNORED_SUFFIXES
    ]
    return sorted(files, key=lambda path: (path.stat().st_mtime_ns, path.name))


def check_file_name(path: Path) -> None:
    """DuckDB opens UTF-8 paths only; a name of other bytes (Latin-1, say) would fail every
    run: refused."""
    try:
        str(path).encode()
    except UnicodeEncodeError:
        raise UnusableInput(
            f"{as_text(path)}: the file name is not UTF-8: rename the file"
        ) from None


def file_kind(con: duckdb.DuckDBPyConnection, path: Path, layouts: dict[str, Layout]) -> str:
    """An inbox file's kind, from its header: theatre records carry APPROACH and no
    layout's procedure columns; anything else is taken for an episode extract (and checked
    as one)."""
    columns = header_columns(con, path, detect_format(path))
    return "theatre_records" if looks_like_theatre(columns, layouts) else "episode_extract"


def plan_deliveries(
    con: duckdb.DuckDBPyConnection,
    extracts: list[Path],
    theatre: Path | None = None,
    inbox: Path | None = None,
    reload: bool = False,
    layouts: dict[str, Layout] | None = None,
    layout: str | None = None,
) -> list[Delivery]:
    """Each file's delivery: extracts first, then theatre records, each in delivery order;
    an episode extract's layout, the one named (`layout`) or the one of `layouts` (the
    shipped ones by default) it fits."""
    layouts = layouts or shipped_layouts()
    named = [(path, "episode_extract", False) for path in extracts]
    named += [(theatre, "theatre_records", False)] if theatre else []
    named += [(path, None, True) for path in (inbox_files(inbox) if inbox else [])]
    deliveries, seen = [], {}
    for path, kind, from_inbox in named:
        delivery = Delivery(str(path), kind, "load", from_inbox=from_inbox)
        try:
            check_file_name(path)
            delivery.kind = kind or file_kind(con, path, layouts)
            _, delivery.layout, delivery.kind = inspect_file(
                con, path, delivery.kind, layouts, layout
            )
            delivery.sha256 = start_hashing(path).result()
        except (UnusableInput, OSError) as error:
            delivery.action = "refuse"
            if delivery.kind != "theatre_records":
                delivery.layout, found = recognised(con, path, layouts, layout)
                delivery.kind = found or delivery.kind
            delivery.reason = str(error) if isinstance(error, UnusableInput) else (
                f"{path}: cannot be read ({type(error).__name__})"
            )  # fmt: skip
            deliveries.append(delivery)
            continue
        earlier = con.execute(sql("first_load_of_content"), {"sha256": delivery.sha256}).fetchall()
        if delivery.sha256 in seen:
            delivery.action = "skip"
            delivery.reason = f"same content as {seen[delivery.sha256]}, in this run"
        elif earlier and not reload:
            file_id, run_id, file_name = earlier[0]
            delivery.action, delivery.earlier_file_id = "skip", file_id
            delivery.reason = f"content already loaded, as {file_name} by run {run_id}"
        seen.setdefault(delivery.sha256, delivery.name)
        deliveries.append(delivery)
    group_long_deliveries(deliveries)
    order = {"episode_extract": 0, "episode_procedures": 0, "episode_diagnoses": 0,
             "theatre_records": 1, None: 2}  # fmt: skip
    deliveries = sorted(deliveries, key=lambda d: order[d.kind])
    for delivery in deliveries:  # ids in delivery order, however the loads are scheduled
        if delivery.action == "load":
            delivery.file_id = con.execute("select nextval('input_file_ids')").fetchall()[0][0]
    return deliveries


def group_long_deliveries(deliveries: list[Delivery]) -> None:
    """A long layout's files of one run are one delivery: one episodes file, one procedures
    file and one diagnoses file (if the layout has them), loaded together if any of them is
    to load (new, or --reload). Files that do not make one such set, or whose set has a
    refused file, are refused, each saying why; a set with nothing new stays skipped. A file
    given twice in the run stays skipped."""
    groups: dict[str, list[Delivery]] = {}
    for delivery in deliveries:
        twice = delivery.action == "skip" and delivery.earlier_file_id is None
        long = delivery.layout is not None and delivery.layout.shape == "long"
        if long and not twice:
            groups.setdefault(delivery.layout.name, []).append(delivery)
    for name, group in groups.items():
        if not any(d.action == "load" for d in group):
            continue  # nothing new: skipped (or refused) as each is
        refused = [d for d in group if d.action == "refuse"]
        kinds = Counter(d.kind for d in group if d.action != "refuse")
        tables = group[0].layout.tables  # a file of each, by its kind
        wanted = {LONG_KINDS[t]: t for t in ("episodes", "procedures", "diagnoses") if t in tables}
        problem = None
        if refused:
            problem = f"not loaded: {refused[0].name}, of the same {name} delivery, was refused"
        elif any(kinds[kind] != 1 for kind in wanted) or sum(kinds.values()) != len(wanted):
            problem = (
                f"a {name} delivery is one {', one '.join(wanted.values())} file, given "
                "together; this run has "
                + ", ".join(f"{kinds[kind]} {table}" for kind, table in wanted.items())
            )
        if problem:
            for delivery in group:
                if delivery.action != "refuse":
                    delivery.action, delivery.reason = "refuse", f"{delivery.path}: {problem}"
            continue
        episodes = next(d for d in group if d.kind == "episode_extract")
        for delivery in group:
            if delivery.action == "skip":  # loaded again with the new files
                delivery.action, delivery.reason, delivery.earlier_file_id = "load", None, None
            if delivery is not episodes:
                delivery.loaded_with = episodes.path
        episodes.companions = sorted(
            (d for d in group if d is not episodes), key=lambda d: d.kind != "episode_procedures"
        )


def recognised(
    con: duckdb.DuckDBPyConnection, path: Path, layouts: dict[str, Layout], layout: str | None
) -> tuple[Layout | None, str | None]:
    """A refused file's layout and kind, if its header says them: a long delivery with a
    refused file is refused whole (group_long_deliveries)."""
    try:
        columns = header_columns(con, path, detect_format(path))
        found = recognise(path, columns, layouts, layout)
        return found, found.kind_of(columns)
    except (UnusableInput, OSError):
        return None, None


def as_text(path: str | Path) -> str:
    """A file name as the warehouse can hold it: bytes that are not UTF-8 as \\xNN."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def record_deliveries(
    con: duckdb.DuckDBPyConnection, run_id: str, deliveries: list[Delivery]
) -> None:
    """Enter the skipped and refused files in the ledger (a load enters itself)."""
    rows = [
        [run_id, utc_now(), as_text(d.name), as_text(Path(d.path).resolve()), d.sha256, d.kind,
         "skipped" if d.action == "skip" else "refused", d.earlier_file_id, d.reason]
        for d in deliveries
        if d.action != "load"
    ]  # fmt: skip
    if rows:
        con.executemany("insert into ledger values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def move_from_inbox(delivery: Delivery, run_id: str) -> Path | None:
    """Move an inbox file once it is dealt with: to processed/ if loaded or skipped, to
    refused/ if refused; one that failed stays for the next run. A name already taken there
    gets the run id added."""
    if not delivery.from_inbox or delivery.action == "failed":
        return None
    return move_beside(Path(delivery.path), REFUSED if delivery.action == "refuse" else PROCESSED,
                       run_id)  # fmt: skip


def move_beside(source: Path, name: str, run_id: str) -> Path:
    """Move a file into the folder `name` beside it (processed/ or refused/), with the run
    id added to its name if that name is taken there."""
    folder = source.parent / name
    folder.mkdir(exist_ok=True)
    target = folder / source.name
    if target.exists():
        target = folder / f"{source.stem}.{run_id}{source.suffix}"
    shutil.move(source, target)
    return target


class DeliveryOrder:
    """Files loaded side by side write their rows one at a time, in delivery order, so that
    the latest delivery of an episode still wins. Each load waits for its turn; the run
    passes over a refused file, or calls a halt after a failure (the loads still waiting
    then give up)."""

    def __init__(self) -> None:
        self.next = 0
        self.halted = False
        self.condition = threading.Condition()

    @contextmanager
    def turn(self, index: int):
        with self.condition:
            self.condition.wait_for(lambda: self.next == index or self.halted)
            if self.halted:
                raise StageFailed("not loaded: an earlier file failed")
        yield
        self.pass_over(index)  # only once written: a load that fails may be retried

    def pass_over(self, index: int) -> None:
        with self.condition:
            self.next = max(self.next, index + 1)
            self.condition.notify_all()

    def halt(self) -> None:
        with self.condition:
            self.halted = True
            self.condition.notify_all()
