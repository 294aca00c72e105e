"""Reading input files as delivered: format detection, kept copies, raw and staging views.

The warehouse keeps a byte-for-byte copy of every file it loads, beside it, with a view of
it as delivered (every column, as text), so nothing is lost; the staging queries in sql/
read the file's columns through a view with fixed names.
"""

import csv
import gzip
import hashlib
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow
import pyarrow.parquet

from liver_audit.config import private_mode
from liver_audit.errors import UnusableInput
from liver_audit.layouts import (
    DATE_FIELDS,
    ID_SEPARATOR,
    STAGED_NAMES,
    TABLE_OF_KIND,
    Layout,
    as_said,
    positions,
)
from liver_audit.warehouse import clear_left_by_ended_processes, sql, sql_literal

DELIMITERS = {"|": "pipe", ",": "comma", "\t": "tab"}
THEATRE_COLUMNS = ["EPIKEY", "OPDATE", "APPROACH"]
# HES has 24 procedure positions, staged as columns of their own; other extracts may have
# more (up to 99: OPERTN_4_nn), staged as a list, extra_positions, for the few files that do.
HES_POSITIONS = 24
EXTRA_POSITIONS_TYPE = "struct(position integer, code_text varchar, procedure_date_text varchar)[]"
# Diagnoses likewise: HES has 20 positions (DIAG_4_01..DIAG_4_20), columns of their own; any
# past 20 a list, extra_diagnoses.
HES_DIAGNOSES = 20
EXTRA_DIAGNOSES_TYPE = "struct(position integer, code_text varchar)[]"
# Stands in for a CR inside a line while DuckDB reads a file with stray CRs (a private-use
# character, UTF-8): DuckDB's reader takes any CR for a line end.
CR_MARK = "\ue00d".encode()
# Each file kind's view sql/ stages from, and its table of lines set aside: a long layout's
# files are read side by side on one connection, each with its own.
STAGING_VIEWS = {
    "episode_extract": ("raw_episodes", "raw_malformed_lines"),
    "theatre_records": ("raw_theatre_records", "raw_malformed_lines"),
    "episode_procedures": ("raw_procedure_rows", "raw_malformed_procedure_lines"),
    "episode_diagnoses": ("raw_diagnosis_rows", "raw_malformed_diagnosis_lines"),
}
GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class RawFile:
    """An input file being loaded: where it is, its copy kept beside the warehouse, its counts."""

    path: Path
    kind: str  # episode_extract or theatre_records
    file_format: str  # pipe, comma, tab or parquet
    layout: Layout | None = None  # an episode extract's: how it names the fields
    columns: list[str] = field(default_factory=list)
    raw_table: str = ""  # the view of the kept file, raw_<kind>_<file id>
    rows_read: int = 0
    malformed_lines: int = 0
    stray_crs: bool = False  # CRs not ending a line: read from a copy without them
    stage_input: str = ""  # a text file's columns that sql/ reads, until the file loads
    kept: Path | None = None  # the copy the raw view reads
    copying: Future | None = field(default=None, repr=False)  # the copy, while under way
    written: list[str] = field(default_factory=list)  # the column names as the header has them

    @property
    def malformed(self) -> str:
        """The temporary table of its lines set aside (malformed), on the loading connection."""
        return STAGING_VIEWS[self.kind][1]


def open_delivered(path: Path):
    """The file's bytes to read, decompressed if it is gzip (UK Biobank delivers so)."""
    with open(path, "rb") as file:
        compressed = file.read(2) == GZIP_MAGIC
    return gzip.open(path, "rb") if compressed else open(path, "rb")


def gzip_intact(path: Path) -> bool:
    """Whether a gzip file decompresses to its end, its checksum right."""
    try:
        with gzip.open(path, "rb") as file:
            while file.read(1 << 24):
                pass
    except (EOFError, zlib.error, gzip.BadGzipFile):
        return False
    return True


def compression(path: Path) -> str:
    """DuckDB's read_csv compression for the file: by its bytes, whatever its name."""
    with open(path, "rb") as file:
        return "gzip" if file.read(2) == GZIP_MAGIC else "none"


def detect_format(path: Path) -> str:
    """parquet, or the delimiter of a text file's header: pipe, comma or tab."""
    try:
        with open_delivered(path) as file:
            head = file.read(1 << 16)
    except OSError as error:
        reason = error.strerror or "not valid gzip"
        raise UnusableInput(f"{path}: cannot read ({reason})") from None
    except EOFError:
        raise UnusableInput(f"{path}: cannot read (gzip file cut short)") from None
    if head.startswith(b"PAR1"):
        return "parquet"
    if not head.strip():
        raise UnusableInput(f"{path}: file is empty")
    header = head.split(b"\n", 1)[0]
    if b"\r" in header.rstrip(b"\r"):
        raise UnusableInput(f"{path}: row 0 (header): lines end CR only; convert the line ends")
    if header.endswith(b"\r\r"):
        # Seen in a raw-extract mock (FILE_HES_APC.txt): every line ends CR CR LF.
        raise UnusableInput(f"{path}: row 0 (header): lines end CR CR LF; convert the line ends")
    try:
        header_text = header.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnusableInput(f"{path}: row 0 (header): not UTF-8 text") from None
    counts = {name: header_text.count(delimiter) for delimiter, name in DELIMITERS.items()}
    # a one-column header has no delimiter: read it as comma, and the column check says
    # which columns are missing
    return max(counts, key=counts.get)


def header_columns(
    con: duckdb.DuckDBPyConnection, path: Path, file_format: str, upper: bool = True
) -> list[str]:
    """The file's column names (upper case and trimmed, or as written), without reading its
    rows."""
    if file_format != "parquet":
        names = text_header(path, file_format)
    else:
        try:
            names = con.sql("select * from read_parquet($path)", params={"path": str(path)}).columns
            # DuckDB renames a repeated or empty name (EPIKEY, epikey -> EPIKEY, epikey_1):
            # check the names as written, as a text header's are
            check_names(path, pyarrow.parquet.read_schema(path).names)
        except (duckdb.Error, pyarrow.ArrowException) as error:
            raise unreadable_parquet(path, error) from None
    return [name.strip().upper() for name in names] if upper else list(names)


def text_header(path: Path, file_format: str) -> list[str]:
    """A delimited file's header as written."""
    with open_delivered(path) as file:
        line = file.readline()
    try:
        text = line.decode("utf-8-sig")
        names = next(csv.reader([text.rstrip("\r\n")], delimiter=_delimiter(file_format)), [])
    except UnicodeDecodeError:
        raise UnusableInput(f"{path}: row 0 (header): not UTF-8 text") from None
    except csv.Error:
        raise UnusableInput(f"{path}: row 0 (header): cannot be split into columns") from None
    # A delimiter at the end of every line (common in pipe exports) leaves an empty last
    # name: keep the column, named, so the rows still split into the header's columns.
    if names and names[-1].strip() == "":
        names[-1] = "trailing_delimiter"
    check_names(path, names)
    return names


def unreadable_parquet(path: Path, error: Exception) -> UnusableInput:
    """A file that does not read as Parquet: named, with the error's type only (the
    message can quote values)."""
    return UnusableInput(f"{path}: cannot read as Parquet ({type(error).__name__})")


def check_names(path: Path, names: list[str]) -> None:
    """Every column named, and no name twice once trimmed and upper-cased (columns are found
    that way), in a text header or a Parquet schema alike."""
    seen = set()
    for number, name in enumerate(names, start=1):
        key = name.strip().upper()
        if not key:
            raise UnusableInput(f"{path}: row 0 (header): column {number} has no name")
        if key in seen:
            raise UnusableInput(f"{path}: row 0 (header): column {name.strip()} appears twice")
        seen.add(key)


def check_theatre_columns(path: Path, columns: list[str], layouts: dict[str, Layout]) -> None:
    """Raise UnusableInput naming the theatre file's missing columns, or saying it is an
    episode extract given as --theatre."""
    missing = [column for column in THEATRE_COLUMNS if column not in columns]
    named = [
        as_said(way[-1])
        for layout in layouts.values()
        for way in layout.procedure_codes
        if positions((way,), columns)
    ]
    if missing and named:
        raise UnusableInput(
            f"{path}: this looks like an episode extract ({named[0]} columns): name it as an "
            "EXTRACT, not --theatre"
        )
    if missing:
        raise UnusableInput(f"{path}: row 0 (header): missing column(s) {', '.join(missing)}")


def looks_like_theatre(columns: list[str], layouts: dict[str, Layout]) -> bool:
    """Theatre records carry EPIKEY, OPDATE and APPROACH, and no layout's procedure columns."""
    return set(THEATRE_COLUMNS) <= set(columns) and not any(
        layout.procedure_columns(columns) for layout in layouts.values()
    )


def check_has_rows(con: duckdb.DuckDBPyConnection, path: Path, file_format: str) -> None:
    """Raise UnusableInput for a file with a header and no data rows, as for an empty file:
    a delivery with nothing in it is refused, not audited as "nothing found". Quick: a
    Parquet file's metadata, a text file's first lines (read_raw counts every line)."""
    if file_format == "parquet":
        try:
            rows = con.execute(
                "select sum(num_rows) from parquet_file_metadata($path)", {"path": str(path)}
            ).fetchall()[0][0]
        except duckdb.Error as error:
            raise unreadable_parquet(path, error) from None
        empty = not rows
    else:
        with open_delivered(path) as file:
            file.readline()
            head = file.read(1 << 16)
        empty = len(head) < 1 << 16 and not head.strip(b"\r\n")
    if empty:
        raise UnusableInput(f"{path}: no data rows")


# One background thread hashes input files; hashlib releases the GIL on large blocks, so
# hashing overlaps with waiting for Prefect's server and with DuckDB's reading.
_HASHING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
_DIGESTS: dict[tuple, Future] = {}


def _stamp(path: Path) -> tuple:
    """What changes when a file is written or replaced: its change time too, which no
    copying tool can set back (cp -p and rsync -a keep the modified time)."""
    stat = path.stat()
    return (str(path.resolve()), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns,
            stat.st_ctime_ns)  # fmt: skip


def start_hashing(path: Path) -> Future:
    """The file's SHA-256 as a future; a file is hashed once per process (per _stamp, taken
    before it is read)."""
    key = _stamp(path)
    if key not in _DIGESTS:
        _DIGESTS[key] = _HASHING.submit(_sha256, path)
    return _DIGESTS[key]


def unchanged_since_hashed(path: Path, sha256: str) -> bool:
    """Whether the file still has the _stamp it had when it was hashed to `sha256`: if not,
    what was read, kept and hashed may be different versions of it (a delivery still being
    written, written again or replaced while it was loaded)."""
    try:
        digest = _DIGESTS.get(_stamp(path))
    except OSError:  # gone
        return False
    return digest is not None and digest.done() and digest.result() == sha256


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _delimiter(file_format: str) -> str:
    return {name: delimiter for delimiter, name in DELIMITERS.items()}[file_format]


# Every column as text, named from the header we parsed: no sniffing, so a bad line deep in
# the file cannot make DuckDB misjudge the whole file's dialect.
READ_CSV = (
    "read_csv({path}, header = true, auto_detect = false, columns = {columns}, "
    "delim = {delim}, quote = '\"', escape = '\"', compression = {compression}{options})"
)
# Lines that do not split into the header's columns go to raw_rejects, with line numbers.
STORE_REJECTS = (
    ", store_rejects = true, rejects_table = 'raw_rejects', rejects_scan = 'raw_reject_scans'"
)

# Delivered files are copied in one background thread (the kernel copies: sendfile), one
# after another: a text file's copy overlaps with DuckDB reading the original; a Parquet
# file waits for its copy, and is staged from it.
_COPYING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keep")


def keep_delivered(raw: RawFile, folder: Path | None) -> None:
    """Start copying the file, byte for byte, into the warehouse's folder of delivered
    files (`folder`); raw.kept names the copy. No folder (an in-memory warehouse): the raw
    view reads the file where it is."""
    if folder is None:
        raw.kept = raw.path
        return
    folder.mkdir(mode=private_mode(folder=True), parents=True, exist_ok=True)
    suffix = {"parquet": ".parquet", "gzip": ".gz"}.get(
        "parquet" if raw.file_format == "parquet" else compression(raw.path), ".txt"
    )
    raw.kept = folder / f"{raw.raw_table}{suffix}"
    raw.copying = _COPYING.submit(_copy_private, raw.path, raw.kept)


def _copy_private(source: Path, target: Path) -> None:
    """Copy, readable by this user only (or the group: share_with_group): the copy holds
    patient data, whatever the delivered file's own permissions."""
    target.touch(mode=private_mode())
    shutil.copyfile(source, target)


def read_raw(con: duckdb.DuckDBPyConnection, raw: RawFile) -> None:
    """Count the file's rows and set its malformed lines aside; make the view sql/ stages
    from (raw_episodes or raw_theatre_records). A Parquet file is staged straight from its
    kept copy. A text file's columns that sql/ reads go into a table, raw.stage_input, once: a
    text file is read strictly first; only if a line does not split into the header's
    columns is it read again setting such lines aside for quarantine (storing rejects costs
    about a fifth more on a clean file). Its data lines are then counted without quoting:
    rows read and lines set aside must make them up. A file with no data rows is refused."""
    con.execute("drop table if exists raw_rejects; drop table if exists raw_reject_scans")
    con.execute(
        f"create or replace temp table {raw.malformed} (source_row bigint, error_type varchar)"
    )
    try:
        if raw.file_format == "parquet":
            # Staged from the kept copy, once it is complete: staging reads a Parquet file
            # once per procedure position, and the delivery may sit on a network share.
            if raw.copying is not None:
                raw.copying.result()
            local = raw.kept or raw.path
            names = header_columns(con, local, raw.file_format, upper=False)
            raw.columns = [name.strip().upper() for name in names]
            raw.written = [name.strip() for name in names]
            source = f"read_parquet({sql_literal(local)}, file_row_number = true)"
            selects = [
                "file_row_number + 1 as source_row",
                *_staged_columns(raw, names, "::varchar"),
            ]
            rows = con.execute(f"select count(*) from {source}").fetchall()[0][0]
            con.execute(
                f"create or replace temp view {_staging_view(raw)} as "
                f"select {', '.join(selects)} from {source}"
            )
        else:
            names = text_header(raw.path, raw.file_format)
            raw.columns = [name.strip().upper() for name in names]
            raw.written = [name.strip() for name in names]
            raw.stage_input = f"stage_input_{raw.raw_table}"
            try:
                rows, lines = _read_text(con, raw, names, raw.path)
            except duckdb.InvalidInputException:
                # DuckDB's strict reader stops at line ends it cannot tell apart (a CRLF or a
                # lone CR in an LF file): read a private copy with CRs that end a line removed
                # and lone CRs marked, so each line is read or set aside on its own.
                raw.stray_crs = True
                with _without_stray_crs(raw) as copy:
                    rows, lines = _read_text(con, raw, names, copy)
                    _restore_crs(con, raw)
            raw.malformed_lines = con.execute(f"select count(*) from {raw.malformed}").fetchall()[
                0
            ][0]
            # rowid follows file order: the table was committed on its own, and DuckDB
            # preserves insertion order (its default, which must stay on: the setting is the
            # whole database's, and loads run side by side).
            if rows + raw.malformed_lines != lines and not raw.stray_crs:
                # The count takes any CR for a line end; the reader keeps one inside a
                # quoted field: count again with only LFs as line ends.
                with _without_stray_crs(raw) as copy:
                    lines = _data_lines(con, copy)
            if rows + raw.malformed_lines != lines:
                raise UnusableInput(_merged_lines(con, raw, lines, rows + raw.malformed_lines))
            con.execute(
                f"create or replace temp view {_staging_view(raw)} as "
                f"select {_source_row(raw)} as source_row, * from {raw.stage_input}"
            )
        if rows + raw.malformed_lines == 0:
            raise UnusableInput(f"{raw.path}: no data rows")
    except (duckdb.OutOfMemoryException, duckdb.IOException):
        if compression(raw.path) == "gzip" and not gzip_intact(raw.path):
            raise UnusableInput(
                f"{raw.path}: not a whole gzip file (damaged or cut short)"
            ) from None
        raise  # the machine's trouble, not the file's: a failed run, not a refused file
    except (EOFError, zlib.error, gzip.BadGzipFile):  # the copy without stray CRs, of a gzip
        raise UnusableInput(f"{raw.path}: not a whole gzip file (damaged or cut short)") from None
    except duckdb.Error as error:
        # DuckDB's message can quote the offending line: name the file and line only.
        line = re.search(r"[Ll]ine:? (\d+)", str(error))
        where = f"line {line.group(1)}" if line else "a line"
        raise UnusableInput(
            f"{raw.path}: {where} cannot be read as {raw.file_format}-delimited text "
            f"({type(error).__name__})"
        ) from None
    raw.rows_read = rows + raw.malformed_lines


def check_parquet_data(con: duckdb.DuckDBPyConnection, raw: RawFile) -> None:
    """After staging a Parquet file failed: read every value of it once. A file whose footer
    reads but whose data pages do not is damaged: refuse it (UnusableInput), or it would fail
    every run and hold up the inbox. If it reads, the failure was not the file's: return."""
    try:
        con.execute(
            "select bit_xor(hash(columns(*))) from "
            f"read_parquet({sql_literal(raw.kept or raw.path)})"
        ).fetchall()
    except (duckdb.OutOfMemoryException, duckdb.IOException):
        return  # the machine's trouble, not the file's
    except duckdb.Error as error:
        # DuckDB's message can quote values: name the file and the error's type only.
        raise UnusableInput(
            f"{raw.path}: cannot read as Parquet: its data is damaged ({type(error).__name__})"
        ) from None


def create_raw_view(con: duckdb.DuckDBPyConnection, raw: RawFile) -> None:
    """raw.raw_table: a view of the kept file as delivered, every column as text (the lines
    that split into the header's columns, for a text file). In the warehouse, for analysts."""
    if raw.file_format == "parquet":
        select = f"select columns(*)::varchar from read_parquet({sql_literal(raw.kept)})"
    else:
        names = text_header(raw.kept, raw.file_format)
        # DuckDB's strict reader cannot read a file with stray CRs: the view of one takes
        # every CR for a line end.
        loose = ", strict_mode = false" if raw.stray_crs else ""
        select = "select * from " + _read_csv(
            raw.kept, raw.file_format, names, ", ignore_errors = true" + loose
        )
    con.execute(f"create or replace view {raw.raw_table} as {select}")


def discard(con: duckdb.DuckDBPyConnection, raw: RawFile) -> None:
    """Undo what reading left behind, for a file that did not load: its staging input and
    its kept copy (never the delivered file itself)."""
    drop_stage_input(con, raw)
    if raw.copying is not None:
        if not raw.copying.cancel():
            raw.copying.exception()  # wait for the copy under way to end
        raw.kept.unlink(missing_ok=True)


def drop_stage_input(con: duckdb.DuckDBPyConnection, raw: RawFile) -> None:
    if raw.stage_input:
        con.execute(f"drop table if exists {raw.stage_input}")


def _staging_view(raw: RawFile) -> str:
    return STAGING_VIEWS[raw.kind][0]


def _staged_columns(raw: RawFile, names: list[str], cast: str = "") -> list[str]:
    """The columns sql/ reads under fixed names (a column the file lacks is null)."""
    actual = {name.strip().upper(): name for name in names}

    def value(name: str | None) -> str:
        if name is None:
            return "null::varchar"
        quoted = actual[name].replace('"', '""')
        return f'"{quoted}"{cast}'

    def column(name: str | None, alias: str) -> str:
        return f"{value(name)} as {alias}"

    if raw.kind == "theatre_records":
        return [column(name, name.lower()) for name in THEATRE_COLUMNS]
    layout = raw.layout

    def date(name: str | None) -> str:
        # a layout's DD/MM/YYYY dates staged as HES writes them (YYYY-MM-DD); what is not
        # such a date stays as delivered, for the checks to judge
        return (
            f"dmy_as_iso({value(name)})" if layout.dates == "DD/MM/YYYY" and name else value(name)
        )

    if layout.shape == "long":
        return _long_columns(raw, value, date)
    procedures = layout.procedure_columns(raw.columns)
    dates = layout.date_columns(raw.columns)
    selects = [
        f"{date(layout.columns.get(f)) if f in DATE_FIELDS else value(layout.columns.get(f))} "
        f"as {staged}"
        for f, staged in STAGED_NAMES.items()
    ]
    if layout.provider:  # one code for every episode, where no column has it
        selects[list(STAGED_NAMES).index("provider_code")] = (
            f"{sql_literal(layout.provider)} as procode3"
        )
    diagnoses = layout.diagnosis_columns(raw.columns)
    for position in range(1, HES_DIAGNOSES + 1):
        selects.append(column(diagnoses.get(position), f"diag_{position:02d}"))
    extra_diagnoses = [
        f"{{'position': {p}, 'code_text': {value(diagnoses[p])}}}"
        for p in sorted(diagnoses)
        if p > HES_DIAGNOSES
    ]
    selects.append(
        f"[{', '.join(extra_diagnoses)}] as extra_diagnoses"
        if extra_diagnoses
        else f"null::{EXTRA_DIAGNOSES_TYPE} as extra_diagnoses"
    )
    for position in range(1, HES_POSITIONS + 1):
        selects.append(column(procedures.get(position), f"opertn_{position:02d}"))
        selects.append(f"{date(dates.get(position))} as opdate_{position:02d}")
    extra = sorted(p for p in procedures.keys() | dates.keys() if p > HES_POSITIONS)
    pairs = [
        f"{{'position': {p}, 'code_text': {value(procedures.get(p))}, "
        f"'procedure_date_text': {date(dates.get(p))}}}"
        for p in extra
    ]
    # null when the file has none: stg_procedures' scan of it is then planned away
    selects.append(
        f"[{', '.join(pairs)}] as extra_positions"
        if pairs
        else f"null::{EXTRA_POSITIONS_TYPE} as extra_positions"
    )
    return selects


def _long_columns(raw: RawFile, value, date) -> list[str]:
    """A long layout's file under the fixed names sql/ reads: an episodes file as an episode
    extract with no codes (sql/stg_episodes_codes.sql adds them from the other files), a
    procedures or diagnoses file as one code per row."""
    layout = raw.layout
    table = layout.tables[TABLE_OF_KIND[raw.kind]]
    parts = [value(name) for name in table["episode_id"]]
    # A composite id (eid + ins_index) is missing if a part is; a part holding the separator
    # would make two ids read as one, so it makes the id missing too (no such id is known).
    episode_id = parts[0] if len(parts) == 1 else (
        "case when " + " or ".join(
            f"hes_text({p}) is null or contains({p}, {sql_literal(ID_SEPARATOR)})" for p in parts
        ) + f" then null else concat_ws({sql_literal(ID_SEPARATOR)}, "
        + ", ".join(f"hes_text({p})" for p in parts) + ") end"
    )  # fmt: skip
    if raw.kind == "episode_extract":
        provider = (
            sql_literal(layout.provider) if layout.provider else value(table["provider_code"])
        )
        selects = [
            f"{episode_id} as epikey",
            f"{provider} as procode3",
            *(f"{date(table[f])} as {STAGED_NAMES[f]}" for f in DATE_FIELDS),
            f"{value(table['sex'])} as sex",
            f"{value(table['start_age'])} as startage",
        ]
        selects += [f"null::varchar as diag_{p:02d}" for p in range(1, HES_DIAGNOSES + 1)]
        selects.append(f"null::{EXTRA_DIAGNOSES_TYPE} as extra_diagnoses")
        for p in range(1, HES_POSITIONS + 1):
            selects += [f"null::varchar as opertn_{p:02d}", f"null::varchar as opdate_{p:02d}"]
        selects.append(f"null::{EXTRA_POSITIONS_TYPE} as extra_positions")
        return selects
    codes = [value(name) for name in table["code"]]
    code = codes[0] if len(codes) == 1 else (
        f"nullif(concat({', '.join(f'hes_text({c})' for c in codes)}), '')"
    )  # fmt: skip
    selects = [
        f"{episode_id} as epikey",
        f"{value(table['position'])} as position_text",
        f"{table['first_position']} as first_position",
        f"{code} as code_text",
    ]
    if raw.kind == "episode_procedures":
        selects.append(f"{date(table.get('date'))} as procedure_date_text")
    return selects


def _read_csv(path: Path, file_format: str, names: list[str], options: str = "") -> str:
    columns = "{" + ", ".join(f"{sql_literal(name)}: 'VARCHAR'" for name in names) + "}"
    return READ_CSV.format(
        path=sql_literal(path),
        columns=columns,
        delim=sql_literal(_delimiter(file_format)),
        compression=sql_literal(compression(path)),
        options=options,
    )


def _read_text(
    con: duckdb.DuckDBPyConnection, raw: RawFile, names: list[str], source: Path
) -> tuple[int, int]:
    """Read a text file (or its copy without stray CRs) into raw.stage_input: strictly first;
    only if a line does not split into the header's columns, again setting such lines aside
    in raw_malformed_lines. Returns the rows read and the file's data lines."""
    stage_input = (
        f"create or replace table {raw.stage_input} as "
        f"select {', '.join(_staged_columns(raw, names))} from "
    )
    try:
        con.execute(stage_input + _read_csv(source, raw.file_format, names))
    except duckdb.InvalidInputException:
        con.execute("drop table if exists raw_rejects; drop table if exists raw_reject_scans")
        con.execute(stage_input + _read_csv(source, raw.file_format, names, STORE_REJECTS))
        # DuckDB may record several errors for one line: one quarantine row each line.
        con.execute(f"insert into {raw.malformed} {sql('raw_malformed_lines')}")
    rows = con.execute(f"select count(*) from {raw.stage_input}").fetchall()[0][0]
    return rows, _data_lines(con, source)


def _data_lines(con: duckdb.DuckDBPyConnection, source: Path) -> int:
    """The file's non-blank lines after the header, counted every time: a stray quote can
    merge lines into one row without any error (0.3 s a million rows)."""
    query = sql("text_data_lines")
    params = {"path": str(source), "compression": compression(source)}
    try:
        return con.execute(query, params).fetchall()[0][0]
    except duckdb.InvalidInputException:  # a line that is not UTF-8: counted from the rejects
        con.execute("drop table if exists raw_line_rejects; drop table if exists raw_line_scans")
        rejects = ", store_rejects = true, rejects_table = 'raw_line_rejects', "
        rejects += "rejects_scan = 'raw_line_scans'"
        query = query.replace("strict_mode = false", "strict_mode = false" + rejects)
        lines = con.execute(query, params).fetchall()[0][0]
        return (
            lines
            + con.execute("select count(distinct line) from raw_line_rejects").fetchall()[0][0]
        )


def _merged_lines(con: duckdb.DuckDBPyConnection, raw: RawFile, lines: int, rows: int) -> str:
    """What to say when the rows read are not the file's data lines: a quote merged lines
    into one row. Names the first row where that happened, if the rows show it: a line set
    aside (a quote never closed), or a row with a line end inside a field."""
    line_end = " or ".join(
        f"contains({name}, chr(10)) or contains({name}, chr(13))"
        for name in text_fields(con, raw.stage_input)
    )
    first = con.execute(
        f"select least((select min(source_row) from {raw.malformed}), "
        f"(select min(source_row) from (select {_source_row(raw)} as source_row, * "
        f"from {raw.stage_input}) where {line_end}))"
    ).fetchall()[0][0]
    where = f"row {first}: a quote opened here" if first else "a quote"
    return (
        f"{raw.path}: {where} is never closed on its line, so {lines} data lines read as "
        f"{rows} rows; fix the quote and run again"
    )


# A temporary copy of a text file without stray CRs, by process id (_without_stray_crs).
LINES_COPY = r"\.lines-(\d+)-.*\.txt"


@contextmanager
def _without_stray_crs(raw: RawFile) -> Iterator[Path]:
    """A private, temporary copy of the text file where a CR before a line end (or the
    file's end) is dropped and any other CR becomes CR_MARK: DuckDB then reads every LF as
    the line end, and each line splits into fields or is set aside on its own. Beside the
    kept copy (same disk, private folder) if there is one."""
    folder = raw.kept.parent if raw.kept is not None and raw.kept != raw.path else None
    # named after this process: one a killed process left is deleted by the next copy
    clear_left_by_ended_processes(folder or Path(tempfile.gettempdir()), LINES_COPY)
    handle, name = tempfile.mkstemp(prefix=f".lines-{os.getpid()}-", suffix=".txt", dir=folder)
    copy = Path(name)
    try:
        with open_delivered(raw.path) as source, os.fdopen(handle, "wb") as target:
            held = b""
            while chunk := source.read(1 << 22):
                chunk = held + chunk
                # a CR at the end of a chunk may end a line: decided with the next chunk
                held = b"\r" if chunk.endswith(b"\r") else b""
                chunk = chunk[:-1] if held else chunk
                target.write(chunk.replace(b"\r\n", b"\n").replace(b"\r", CR_MARK))
        yield copy
    finally:
        copy.unlink(missing_ok=True)


def text_fields(con: duckdb.DuckDBPyConnection, stage_input: str) -> list[str]:
    """A staging input's text fields (extra_positions, past 24, is a list of them)."""
    staged = con.sql(f"select * from {stage_input} limit 0")
    return [name for name, kind in zip(staged.columns, staged.types) if kind == "VARCHAR"]


def _restore_crs(con: duckdb.DuckDBPyConnection, raw: RawFile) -> None:
    """Put the lone CRs back in the values read from the copy without stray CRs."""
    columns = text_fields(con, raw.stage_input)
    mark = sql_literal(CR_MARK.decode())
    # Not in extra_positions (past 24): DuckDB updates a list by moving its row, and a
    # row's place is its source_row. A CR there stays marked (a malformed code anyway).
    con.execute(
        f"update {raw.stage_input} set "
        + ", ".join(f"{name} = replace({name}, {mark}, chr(13))" for name in columns)
        + " where "
        + " or ".join(f"contains({name}, {mark})" for name in columns)
    )


def _source_row(raw: RawFile) -> str:
    """SQL for the 1-based data row of a stage_input row. Rows are stored in file order
    (DuckDB preserves insertion order), so it is rowid + 1, shifted past any malformed
    lines that were set aside before it."""
    if not raw.malformed_lines:
        return "rowid + 1"
    return (
        "rowid + 1 + (select count(*) from (select source_row, row_number() over "
        f"(order by source_row) as nth from {raw.malformed}) as skipped "
        "where skipped.source_row - skipped.nth < rowid + 1)"
    )
