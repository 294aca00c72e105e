"""`liver-audit sql`: read-only SQL on the warehouse for analysts, one query or a prompt.

The connection is read-only (DuckDB refuses any write) and has no file access beyond the
warehouse and reading its kept copies of delivered files (the raw_* views): no COPY TO,
no read_csv of another file; exports go through --csv or --json, to stdout. The
stable views in schema `audit` come first on the search path, so `assessments` means
audit.assessments. A query's own error is shown to the analyst who wrote it: it is their
query on data they can already read, not a log.
"""

import sys
from pathlib import Path

import duckdb
import polars as pl

from liver_audit.errors import UnusableInput
from liver_audit.terminal import print_table
from liver_audit.warehouse import open_read_only

PROMPT, CONTINUED = "liver-audit> ", "         ...> "
HELP = """Type SQL ending with ; (it may span lines). The stable views: episodes, procedures,
assessments, quarantine, runs, files (schema audit, first on the search path; internal
tables are in schema main). Commands: .views  .help  .quit"""


def run_sql(path: Path, query: str | None, as_csv: bool, as_json: bool, max_rows: int) -> int:
    with open_read_only(path, external_access=False) as con:
        con.execute("set search_path = 'audit,main'")
        if query is None:
            return prompt(con, max_rows)
        try:
            result = con.sql(query)
        except duckdb.Error as error:
            raise UnusableInput(f"query failed: {first_line(error)}") from None
        if result is None:
            raise UnusableInput("query failed: not a query that returns rows")
        table = fetch(result)
    if as_csv:
        sys.stdout.write(table.write_csv())
    elif as_json:
        sys.stdout.write(table.write_json() + "\n")
    else:
        show(table, max_rows)
    return 0


def fetch(result: duckdb.DuckDBPyRelation) -> pl.DataFrame:
    try:
        return result.pl()
    except duckdb.Error as error:
        raise UnusableInput(f"query failed: {first_line(error)}") from None


def show(table: pl.DataFrame, max_rows: int) -> None:
    print_table(table.head(max_rows))
    if table.height > max_rows:
        print(f"... {table.height - max_rows:,} more rows ({table.height:,} in all): "
              "use --max-rows, --csv or --json")  # fmt: skip
    else:
        print(f"({table.height:,} rows)")


def first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def prompt(con: duckdb.DuckDBPyConnection, max_rows: int) -> int:
    """An interactive prompt: statements end with ';', errors are one line and the prompt
    goes on; .quit or end of input leaves."""
    try:
        import readline  # noqa: F401  (line editing and history where available)
    except ImportError:
        pass
    print(f"liver-audit SQL (read-only). {HELP}")
    lines: list[str] = []
    while True:
        try:
            line = input(CONTINUED if lines else PROMPT)
        except EOFError:
            print()
            return 0
        except KeyboardInterrupt:
            print()
            lines = []
            continue
        command = line.strip()
        if not lines and command in (".quit", ".exit"):
            return 0
        if not lines and command == ".help":
            print(HELP)
            continue
        if not lines and command == ".views":
            show(con.sql("select view_name, comment from duckdb_views() "
                         "where schema_name = 'audit' order by view_name").pl(), max_rows)  # fmt: skip
            continue
        if not command and not lines:
            continue
        lines.append(line)
        if not command.endswith(";"):
            continue
        statement, lines = "\n".join(lines), []
        try:
            result = con.sql(statement)
            if result is not None:
                show(fetch(result), max_rows)
        except (duckdb.Error, UnusableInput) as error:
            message = str(error) if isinstance(error, UnusableInput) else first_line(error)
            print(f"error: {message.removeprefix('query failed: ')}")
