"""`liver-audit sql` writes no file: only queries run, anything else is refused in one line,
and no statement built from hostile pieces changes a byte in the warehouse's folder."""

import hashlib
import io
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liver_audit import analyst_sql
from liver_audit.cli import main
from liver_audit.warehouse import connect
from tests.examples import examples

KEPT = "raw_episode_extract_1.txt"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    """A warehouse with a kept copy and its raw view, its run lock file, and a WAL left
    unmerged: every file an analyst's statement might aim at."""
    folder = tmp_path_factory.mktemp("read-only")
    path = folder / "wh.duckdb"
    delivered = folder / "wh.duckdb.delivered"
    delivered.mkdir()
    (delivered / KEPT).write_text("EPIKEY|PROCODE3\n000000000001|RXA\n")
    Path(f"{path}.lock").touch()
    with connect(path) as con:
        con.execute(
            "create view raw_episode_extract_1 as "
            f"select * from read_csv('{delivered / KEPT}', header = true, all_varchar = true)"
        )
        con.execute("checkpoint")
        con.execute("pragma disable_checkpoint_on_shutdown")
        con.execute("insert into warehouse_info values ('left in the WAL', 'yes')")
    assert Path(f"{path}.wal").is_file()
    return path


def sql(warehouse: Path, query: str | None = None, typed: str = "") -> tuple[int, str, str]:
    """`liver-audit sql` in this process: exit code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(typed))
        try:
            code = main(["sql", "--warehouse", str(warehouse), *([query] if query else [])])
        except SystemExit as exit:  # argparse's own one line (a query starting with -)
            code = exit.code
    return code, out.getvalue(), err.getvalue()


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every file and folder under `folder`: size, modified time and content."""
    return {
        str(p.relative_to(folder)): (
            p.is_dir(),
            p.stat().st_mtime_ns,
            None if p.is_dir() else (p.stat().st_size, hashlib.sha256(p.read_bytes()).digest()),
        )
        for p in sorted(folder.rglob("*"))
    }


READ_ONLY = "liver-audit sql is read-only: "


@pytest.mark.parametrize(
    "query, refused",
    [
        ("select count(*) as n from runs", None),
        ("with a as (select 1 as n) from a", None),
        ("describe runs", None),
        ("show tables", None),
        ("summarize runs", None),
        ("explain select * from episodes", None),
        ("explain analyze select * from episodes", None),
        ("select * from raw_episode_extract_1", None),  # the kept copy, read
        ("select * from duckdb_views()", None),
        ("select * from pragma_table_info('runs')", None),
        ("select * from range(3)", None),
        ("delete from runs", "DELETE is not a query"),
        ("with a as (select 1) insert into runs (run_id) select * from a", "INSERT is not"),
        ("create table t as select 1", "CREATE is not a query"),
        ("copy (select 'x' as a) to 'x.csv' (format csv, use_tmp_file false)", "COPY is not"),
        ("select 1; copy (select 1) to 'x.csv'", "COPY is not a query"),
        ("/* a comment */ copy runs to 'x.csv'", "COPY is not a query"),
        ("-- a comment\nEXPORT DATABASE 'x'", "EXPORT is not a query"),
        ("attach 'new.duckdb' as x", "ATTACH is not a query"),
        ("detach wh", "DETACH is not a query"),
        ("use memory", "USE is not a query"),
        ("set allowed_paths = []", "SET is not a query"),
        ("reset search_path", "RESET is not a query"),
        ("install httpfs", "INSTALL is not a query"),
        ("load httpfs", "LOAD is not a query"),
        ("pragma table_info('runs')", "PRAGMA is not a query"),
        ("call checkpoint()", "CALL is not a query"),
        ("checkpoint", "CHECKPOINT is not a query"),
        ("vacuum", "VACUUM is not a query"),
        ("begin", "BEGIN is not a query"),
        ("update extensions", "not a query"),
        ("pivot runs on status", "PIVOT is not a query"),
        ("explain analyze copy (select 1) to 'x.csv'", "EXPLAIN of anything but one query"),
        ("explain (analyze) copy (select 1) to 'x.csv'", "EXPLAIN of anything but one query"),
        ("select * from enable_logging(storage_path = 'x')", "table function enable_logging"),
        ("select (select 1 from checkpoint())", "table function checkpoint"),
        ("from query('select 1')", "table function query"),
        ("summarize select * from force_checkpoint()", "table function force_checkpoint"),
    ],
)
def test_only_queries_run(warehouse, query, refused):
    code, out, err = sql(warehouse, query)
    if refused is None:
        assert (code, err) == (0, ""), err
        assert "rows" in out.splitlines()[-1]
    else:
        assert code == 2 and out == ""
        (line,) = err.splitlines()
        assert line.startswith(READ_ONLY) and refused in line, line


def test_a_querys_own_error_is_shown_in_one_line(warehouse):
    for query, message in [
        ("select nonsense", "Binder Error"),
        ("selec 1", "Parser Error"),
        ("select * from read_csv('/etc/passwd')", "disabled by configuration"),
    ]:
        code, _, err = sql(warehouse, query)
        (line,) = err.splitlines()
        assert code == 2 and line.startswith("liver-audit: query failed:") and message in line


def test_the_prompt_refuses_in_one_line_and_goes_on(warehouse):
    typed = "delete from runs;\ncopy runs\n  to 'x.csv';\nselect 42 as answer;\n.quit\n"
    code, out, err = sql(warehouse, typed=typed)
    assert (code, err) == (0, "")
    refusals = [line for line in out.splitlines() if READ_ONLY in line]
    assert len(refusals) == 2
    assert "DELETE is not a query" in refusals[0] and "COPY is not a query" in refusals[1]
    assert "42" in out.split(refusals[1])[1]  # the prompt went on


def test_no_query_can_change_the_sessions_settings(warehouse, monkeypatch):
    """Were a statement to get past the check, the locked configuration still keeps file
    access closed and nothing logs or profiles to a file."""
    monkeypatch.setattr(analyst_sql, "check_read_only", lambda text: None, raising=False)
    for setting in [
        "set enable_external_access = true",
        "set allowed_paths = ['/']",
        "set lock_configuration = false",
        "set profiling_output = 'x.json'",
        "call enable_logging(storage_path = 'logs')",
    ]:
        code, _, err = sql(warehouse, setting)
        assert code == 2 and "the configuration has been locked" in err, setting


# Hostile pieces: statements that would write (or open the way to writing) the target,
# hidden behind prefixes, in any case, followed by more.
WRITES = [
    "copy (select 'x' as a) to {t} (format csv, use_tmp_file false)",
    "copy (select 'x' as a) to {t} (format csv)",
    "copy runs to {t} (format parquet)",
    "copy (from raw_episode_extract_1) to {t} (format csv, use_tmp_file false, overwrite true)",
    "export database {t}",
    "attach {t} as x",
    "attach {t} as x (type duckdb); create table x.t as select 1",
    "call enable_logging(storage_path = {t})",
    "select * from enable_logging(storage_path = {t})",
    "from query('copy (select 1) to ''{bare}''')",
    "set allowed_paths = [{t}]",
    "set enable_external_access = true",
    "set temp_directory = {t}",
    "set profiling_output = {t}; pragma enable_profiling = 'json'",
    "pragma enable_profiling",
    "explain analyze copy (select 1) to {t}",
    "explain (analyze) copy (select 1) to {t}",
    "install httpfs",
    "load {t}",
    "checkpoint",
    "force checkpoint",
    "call checkpoint()",
    "select * from force_checkpoint()",
    "vacuum",
    "delete from warehouse_info",
    "insert into runs (run_id) values ('x')",
    "create table t as select 1",
    "drop view audit.runs",
    "copy from database wh to memory",
    "detach wh",
    "select * from read_csv({t})",
    "pivot runs on status",
]
PREFIXES = ["", "select 1; ", "/* comment */ ", "-- comment\n", "with a as (select 1) ", "\n  "]
SUFFIXES = ["", ";", "; select 2", ";\n-- the end"]


def targets(folder: Path) -> list[Path]:
    path = folder / "wh.duckdb"
    return [
        path,
        Path(f"{path}.wal"),
        Path(f"{path}.lock"),
        Path(f"{path}.delivered") / KEPT,
        Path(f"{path}.delivered"),
        Path(f"{path}.delivered") / "new.csv",
        folder / "new.duckdb",
        folder / "new",
    ]


@settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    write=st.sampled_from(WRITES),
    target=st.integers(0, len(targets(Path())) - 1),
    prefix=st.sampled_from(PREFIXES),
    suffix=st.sampled_from(SUFFIXES),
    shout=st.booleans(),
)
def test_no_statement_changes_a_file_in_the_warehouses_folder(
    warehouse, write, target, prefix, suffix, shout
):
    folder = warehouse.parent
    before = snapshot(folder)
    bare = str(targets(folder)[target])
    # in capitals too, save the placeholders
    pieces = re.split(r"(\{t\}|\{bare\})", write)
    statement = "".join(p if p.startswith("{") or not shout else p.upper() for p in pieces)
    query = prefix + statement.format(t=f"'{bare}'", bare=bare) + suffix
    code, _, err = sql(warehouse, query)
    assert code in (0, 2), err
    assert len(err.splitlines()) <= 1, err
    assert snapshot(folder) == before, query


@settings(max_examples=examples(60), deadline=None)
@given(query=st.text(min_size=1, max_size=60).filter(lambda q: q.strip() and "\x00" not in q))
def test_any_text_gives_rows_or_one_line(warehouse, query):
    """Whatever is typed: exit 0 with rows, or 2 with one line; never a traceback."""
    code, _, err = sql(warehouse, query)
    assert code in (0, 2) and len(err.splitlines()) <= 1, err
