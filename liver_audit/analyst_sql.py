"""`liver-audit sql`: read-only SQL on the warehouse for analysts, one query or a prompt.

Nothing it runs may write a file. DuckDB's read-only connection still lets COPY TO, EXPORT
and ATTACH write the database file, its WAL and the kept copies it may read, so, in depth:
only queries run (each statement is classified before any runs, and a table function must
be one that only reads); the connection has no file access beyond the warehouse and
reading its kept copies of delivered files (the raw_* views); and its configuration is
locked, so no query can lift that. Exports go through --csv or --json, to stdout. The
stable views in schema `audit` come first on the search path, so `assessments` means
audit.assessments. A query's own error is shown to the analyst who wrote it: it is their
query on data they can already read, not a log.
"""

import re
import sys
from pathlib import Path

import duckdb
import polars as pl

from liver_audit.errors import UnusableInput
from liver_audit.terminal import print_table
from liver_audit.warehouse import open_read_only, sql

PROMPT, CONTINUED = "liver-audit> ", "         ...> "
HELP = """Type SQL ending with ; (it may span lines). The stable views: episodes, procedures,
assessments, quarantine, runs, files (schema audit, first on the search path; internal
tables are in schema main). Commands: .views  .help  .quit"""
READ_ONLY = "liver-audit sql is read-only"
QUERIES = "only queries run here (SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)"
# Table functions that only read. Any other (enable_logging, checkpoint, query() of a
# string we never classified, ...) is refused: a new DuckDB's functions are not trusted
# until listed here. The duckdb_* functions list the catalogue and settings.
READING_FUNCTIONS = frozenset(
    "range generate_series unnest repeat repeat_row glob sniff_csv read_csv read_csv_auto "
    "read_parquet parquet_scan parquet_metadata parquet_schema parquet_file_metadata "
    "parquet_kv_metadata read_json read_json_auto read_ndjson read_ndjson_auto read_json_objects "
    "read_json_objects_auto read_ndjson_objects read_text read_blob json_each json_tree summary "
    "histogram histogram_values table_info pragma_table_info show pragma_show show_tables "
    "show_tables_expanded show_databases database_size pragma_database_size storage_info "
    "pragma_storage_info metadata_info pragma_metadata_info version pragma_version platform "
    "pragma_platform collations pragma_collations functions pg_timezone_names "
    "icu_calendar_names test_all_types".split()
)
# EXPLAIN [ANALYZE | (options)] <statement>: ANALYZE runs the statement, so it is classified.
EXPLAINED = re.compile(r"explain\s+(?:analy[sz]e\s+|\([^)]*\)\s*)?(.*)", re.IGNORECASE | re.DOTALL)


class Refused(Exception):
    """A statement that is not a query: the message says which, never a value."""


def check_read_only(text: str) -> None:
    """Raise Refused unless every statement in `text` only reads (duckdb.Error, DuckDB's
    own message, if it does not parse)."""
    statements = duckdb.extract_statements(text)
    for statement in statements:
        try:
            kind = statement.type
        except ValueError:  # a type the Python API cannot name (UPDATE EXTENSIONS)
            raise Refused(f"{READ_ONLY}: not a query; {QUERIES}") from None
        if kind == duckdb.StatementType.EXPLAIN:
            explained = EXPLAINED.fullmatch(statement.query)
            try:
                inner = explained and duckdb.extract_statements(explained.group(1))
                query = len(inner) == 1 and inner[0].type == duckdb.StatementType.SELECT
            except (TypeError, duckdb.Error, ValueError):  # no match, no parse, no type
                query = False
            if not query:
                raise Refused(f"{READ_ONLY}: EXPLAIN of anything but one query; {QUERIES}")
            statement = inner[0]
        elif kind != duckdb.StatementType.SELECT:
            word = statement.query.split(maxsplit=1)[0].upper()
            name = word if word.isalpha() and word != "WITH" else kind.name
            raise Refused(f"{READ_ONLY}: {name} is not a query; {QUERIES}")
        with duckdb.connect() as parser:  # parses only: nothing of the warehouse
            functions = parser.sql(
                sql("analyst/table_functions"), params={"statement": statement.query}
            ).fetchall()
        for (function,) in functions:
            if function is None:
                raise Refused(f"{READ_ONLY}: a query DuckDB cannot check; {QUERIES}")
            if function not in READING_FUNCTIONS and not function.startswith("duckdb_"):
                raise Refused(f"{READ_ONLY}: table function {function} may change files or "
                              "settings")  # fmt: skip


def run_sql(path: Path, query: str | None, as_csv: bool, as_json: bool, max_rows: int) -> int:
    with open_read_only(path, external_access=False) as con:
        con.execute("set search_path = 'audit,main'")
        # After the last setting: a query cannot change any again (allowed_paths,
        # enable_external_access, logging or profiling to a file).
        con.execute("set lock_configuration = true")
        if query is None:
            return prompt(con, max_rows)
        try:
            check_read_only(query)
            result = con.sql(query)
        except Refused as refused:
            print(refused, file=sys.stderr)
            return 2
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
            check_read_only(statement)
            result = con.sql(statement)
            if result is not None:
                show(fetch(result), max_rows)
        except Refused as refused:
            print(refused)
        except (duckdb.Error, UnusableInput) as error:
            message = str(error) if isinstance(error, UnusableInput) else first_line(error)
            print(f"error: {message.removeprefix('query failed: ')}")
