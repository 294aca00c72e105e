"""Reading input files as delivered: format detection, raw tables, fixed-name views.

A raw table keeps the file exactly as delivered (every column, as text), so nothing is lost;
the staging queries in sql/ read it through a view with fixed column names.
"""

import csv
import hashlib
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from liver_audit.errors import UnusableInput

DELIMITERS = {"|": "pipe", ",": "comma", "\t": "tab"}
EPISODE_COLUMNS = ["EPIKEY", "PROCODE3", "ADMIDATE", "EPISTART", "EPIEND", "SEX", "STARTAGE"]
THEATRE_COLUMNS = ["EPIKEY", "OPDATE", "APPROACH"]
MAX_POSITIONS = 24


@dataclass
class RawFile:
    """An input file read into the warehouse as delivered."""

    path: Path
    kind: str  # episode_extract or theatre_records
    file_format: str  # pipe, comma, tab or parquet
    columns: list[str] = field(default_factory=list)
    raw_table: str = ""
    rows_read: int = 0
    malformed_lines: int = 0


def detect_format(path: Path) -> str:
    """parquet, or the delimiter of a text file's header: pipe, comma or tab."""
    try:
        with open(path, "rb") as file:
            head = file.read(1 << 16)
    except OSError as error:
        raise UnusableInput(f"{path}: cannot read ({error.strerror})") from None
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


def header_columns(con: duckdb.DuckDBPyConnection, path: Path, file_format: str) -> list[str]:
    """The file's column names (upper case, trimmed), without reading its rows."""
    if file_format != "parquet":
        return [column.strip().upper() for column in text_header(path, file_format)]
    try:
        relation = con.sql("select * from read_parquet($path)", params={"path": str(path)})
        return [column.strip().upper() for column in relation.columns]
    except duckdb.Error as error:
        raise UnusableInput(f"{path}: cannot read as Parquet ({type(error).__name__})") from None


def text_header(path: Path, file_format: str) -> list[str]:
    """A delimited file's header as written."""
    with open(path, "rb") as file:
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
    seen = set()
    for number, name in enumerate(names, start=1):
        key = name.strip().upper()
        if not key:
            raise UnusableInput(f"{path}: row 0 (header): column {number} has no name")
        if key in seen:
            raise UnusableInput(f"{path}: row 0 (header): column {name.strip()} appears twice")
        seen.add(key)
    return names


def check_columns(path: Path, kind: str, columns: list[str]) -> None:
    """Raise UnusableInput naming the required columns the file lacks."""
    required = EPISODE_COLUMNS if kind == "episode_extract" else THEATRE_COLUMNS
    missing = [column for column in required if column not in columns]
    if kind == "episode_extract" and not procedure_columns(columns):
        missing.append("OPERTN_4_nn or OPERTN_nn")
    if missing:
        raise UnusableInput(f"{path}: row 0 (header): missing column(s) {', '.join(missing)}")


def procedure_columns(columns: list[str]) -> dict[int, str]:
    """Position -> procedure column: OPERTN_4_nn, or OPERTN_nn where the file has none."""
    return numbered_columns(columns, r"OPERTN_4_(\d{2})") or numbered_columns(
        columns, r"OPERTN_(\d{2})"
    )


def numbered_columns(columns: list[str], pattern: str) -> dict[int, str]:
    """Position -> column for the columns matching pattern (its group is the position)."""
    return {
        int(match.group(1)): column
        for column in columns
        if (match := re.fullmatch(pattern, column)) and 1 <= int(match.group(1)) <= MAX_POSITIONS
    }


# One background thread hashes input files; hashlib releases the GIL on large blocks, so
# hashing overlaps with waiting for Prefect's server and with DuckDB's reading.
_HASHING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
_DIGESTS: dict[tuple[str, int, int], Future] = {}


def start_hashing(path: Path) -> Future:
    """The file's SHA-256 as a future; a file is hashed once per process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _DIGESTS:
        _DIGESTS[key] = _HASHING.submit(_sha256, path)
    return _DIGESTS[key]


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
    "select * from read_csv($path, header = true, auto_detect = false, columns = {columns}, "
    "delim = $delim, quote = '\"', escape = '\"'{rejects})"
)
# Lines that do not split into the header's columns go to raw_rejects, with line numbers.
STORE_REJECTS = (
    ", store_rejects = true, rejects_table = 'raw_rejects', rejects_scan = 'raw_reject_scans'"
)


def read_raw(con: duckdb.DuckDBPyConnection, raw: RawFile) -> None:
    """Read the file into raw.raw_table, as delivered. A text file is read strictly first;
    only if a line does not split into the header's columns is it read again setting such
    lines aside for quarantine (storing rejects costs about a fifth more on a clean file)."""
    con.execute("drop table if exists raw_rejects; drop table if exists raw_reject_scans")
    con.execute(
        "create or replace temp table raw_malformed_lines (source_row bigint, error_type varchar)"
    )
    # rowid follows file order: DuckDB preserves insertion order (its default, which must
    # stay on: the setting is the whole database's, and loads run side by side).
    try:
        if raw.file_format == "parquet":
            _create_raw_table(con, raw, "select columns(*)::varchar from read_parquet($path)")
        else:
            names = text_header(raw.path, raw.file_format)
            columns = (
                "{"
                + ", ".join("'" + name.replace("'", "''") + "': 'VARCHAR'" for name in names)
                + "}"
            )
            try:
                _create_raw_table(con, raw, READ_CSV.format(columns=columns, rejects=""))
            except duckdb.InvalidInputException:
                _create_raw_table(con, raw, READ_CSV.format(columns=columns, rejects=STORE_REJECTS))
                # DuckDB may record several errors for one line: one quarantine row each line.
                con.execute(
                    "insert into raw_malformed_lines "
                    "select line - 1, string_agg(distinct error_type::varchar, '; ') "
                    "from raw_rejects group by line"
                )
                try:
                    _check_every_line_accounted_for(con, raw)
                except UnusableInput:
                    con.execute(f"drop table if exists {raw.raw_table}")
                    raise
    except (duckdb.OutOfMemoryException, duckdb.IOException):
        raise  # the machine's trouble, not the file's: a failed run, not a refused file
    except duckdb.Error as error:
        # DuckDB's message can quote the offending line: name the file and line only.
        line = re.search(r"[Ll]ine:? (\d+)", str(error))
        where = f"line {line.group(1)}" if line else "a line"
        raise UnusableInput(
            f"{raw.path}: {where} cannot be read as {raw.file_format}-delimited text "
            f"({type(error).__name__})"
        ) from None
    raw.columns = [c.strip().upper() for c in con.table(raw.raw_table).columns]
    raw.malformed_lines = con.execute("select count(*) from raw_malformed_lines").fetchall()[0][0]
    rows = con.execute(f"select count(*) from {raw.raw_table}").fetchall()[0][0]
    raw.rows_read = rows + raw.malformed_lines


def _check_every_line_accounted_for(con: duckdb.DuckDBPyConnection, raw: RawFile) -> None:
    """After lines were rejected, count the file's lines again with no quoting at all: an
    unterminated quote makes DuckDB swallow every later line into one rejected line, and its
    own counts would still reconcile. Refuse the file rather than lose rows silently."""
    lines = con.execute(
        "select count(*) from read_csv($path, header = true, auto_detect = false, "
        "columns = {'line': 'VARCHAR'}, delim = '\x01', quote = '', escape = '', "
        "strict_mode = false, ignore_errors = true)",
        {"path": str(raw.path)},
    ).fetchall()[0][0]
    accounted = con.execute(
        f"select (select count(*) from {raw.raw_table}) "
        "+ (select count(*) from raw_malformed_lines)"
    ).fetchall()[0][0]
    if lines > accounted:
        first = con.execute("select min(source_row) from raw_malformed_lines").fetchall()[0][0]
        raise UnusableInput(
            f"{raw.path}: row {first}: a quote opened here is never closed, so {lines - accounted}"
            " later lines cannot be read; fix the quote and run again"
        )


def _create_raw_table(con: duckdb.DuckDBPyConnection, raw: RawFile, select: str) -> None:
    params = {"path": str(raw.path)}
    if raw.file_format != "parquet":
        params["delim"] = _delimiter(raw.file_format)
    con.execute(f"create or replace table {raw.raw_table} as {select}", params)


def _source_row(raw: RawFile) -> str:
    """SQL for the 1-based data row of a raw table row. Rows are stored in file order
    (DuckDB preserves insertion order), so it is rowid + 1, shifted past any malformed
    lines that were set aside before it."""
    if not raw.malformed_lines:
        return "rowid + 1"
    return (
        "rowid + 1 + (select count(*) from (select source_row, row_number() over "
        "(order by source_row) as nth from raw_malformed_lines) as skipped "
        "where skipped.source_row - skipped.nth < rowid + 1)"
    )


def create_raw_view(con: duckdb.DuckDBPyConnection, raw: RawFile) -> None:
    """raw_episodes or raw_theatre_records: the raw table under the fixed names sql/ reads."""
    actual = {c.strip().upper(): c for c in con.table(raw.raw_table).columns}

    def column(name: str | None, alias: str) -> str:
        if name is None:
            return f"null::varchar as {alias}"
        return f'"{actual[name]}" as {alias}'

    selects = [f"{_source_row(raw)} as source_row"]
    if raw.kind == "theatre_records":
        selects += [column(name, name.lower()) for name in THEATRE_COLUMNS]
        view = "raw_theatre_records"
    else:
        procedures = procedure_columns(raw.columns)
        dates = numbered_columns(raw.columns, r"OPDATE_(\d{2})")
        diagnosis = "DIAG_4_01" if "DIAG_4_01" in actual else None
        selects += [column(name, name.lower()) for name in EPISODE_COLUMNS]
        selects.append(column(diagnosis, "diag_4_01"))
        for position in range(1, MAX_POSITIONS + 1):
            selects.append(column(procedures.get(position), f"opertn_{position:02d}"))
            selects.append(column(dates.get(position), f"opdate_{position:02d}"))
        view = "raw_episodes"
    con.execute(
        f"create or replace temp view {view} as select {', '.join(selects)} from {raw.raw_table}"
    )
