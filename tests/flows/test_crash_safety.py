"""Crash safety: each file's load is one transaction. A run of the command killed with
SIGKILL in the middle of loading a large extract leaves nothing of that file in the
warehouse (no episodes, procedures or quarantine rows, no input_files row, no ledger entry;
only the raw table committed before the transaction, which the next run drops), and the run
is still marked running. The next run records it as interrupted, loads the file, and leaves
a consistent warehouse (ledger and tables agree, every row belongs to a loaded file, each
file whole) whose content and audit files equal an uninterrupted run's.

Two kill points: the real command killed while it inserts the extract's rows; and the
command held at the commit that would enter the file in the ledger, once everything is
written (the latest point a kill can interrupt a load; any earlier commit goes through, so a
load committed in parts would show)."""

import contextlib
import hashlib
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import duckdb
import psutil
import pytest

from bench.generate_extract import generate
from tests.conftest import REPO

pytestmark = pytest.mark.slow

# Large enough that the extract's load takes several seconds (read about 3 s, then stage,
# validate and load in one transaction, about 2 s, on 2 cores).
ROWS = 300_000
# The real command is killed this long after the extract's load stage starts, as a share
# of how long its staging took: the load's inserts into procedures, then episodes, take about
# as long as staging, so the kill lands in the first, well before the commit, on a faster or
# slower machine alike.
KILL_AFTER_SHARE_OF_STAGING = 0.15
CLI = [sys.executable, "-m", "liver_audit.cli"]
HELD = "test: the load is written, its commit held"
# The command, except that the commit that would enter a file as loaded in the ledger (a
# load's last) waits instead; any commit before it goes through.
CLI_HOLDING_THE_COMMIT = [sys.executable, "-c", f"""
import sys, time
import liver_audit.load

def entered(con):
    return con.execute("select count(*) from ledger where action = 'loaded'").fetchall()[0][0]

class HeldAtCommit:
    def __init__(self, con):
        self.con, self.entered_before = con, entered(con)
    def __getattr__(self, name):
        return getattr(self.con, name)
    def commit(self):
        if entered(self.con) > self.entered_before:
            print("{HELD}", file=sys.stderr, flush=True)
            time.sleep(600)
        self.con.commit()

load_file = liver_audit.load.load_file
liver_audit.load.load_file = lambda con, *args: load_file(HeldAtCommit(con), *args)
from liver_audit.cli import entry_point
entry_point()
"""]  # fmt: skip
DATA_TABLES = [
    "episodes",
    "procedures",
    "diagnoses",
    "theatre_records",
    "quarantine",
    "assessments",
]
# Ids the two warehouses legitimately number differently: the killed run used file id 1.
IDS = {"file_id", "run_id"}
AUDIT_FILES = ["assessments.csv", "quarantine.csv", "summary_shareable.csv"]


def cli_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}


def with_invalid_rows(extract: Path) -> None:
    """Append rows that fail validation, so that the quarantine has rows to compare too."""
    with extract.open() as lines:
        next(lines)
        template = next(lines).rstrip("\n").split("|")

    def row(changes: dict[int, str]) -> str:  # by column: 0 EPIKEY, ... 27 OPERTN_4_01
        return "|".join(changes.get(index, v) for index, v in enumerate(template)) + "\n"

    with extract.open("a") as out:
        out.write(row({0: "CRASH0000001", 5: "5"}))  # sex_invalid
        out.write(row({0: "CRASH0000002", 3: "2025-06-10", 4: "2025-06-01"}))  # end < start
        out.write(row({0: "CRASH0000003", 27: "J02"}))  # procedure_code_malformed
        out.write(row({0: "CRASH0000004"}) * 2)  # episode_id_duplicated, both copies


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crash-inputs")
    extract, theatre = folder / "extract.txt", folder / "theatre.csv"
    generate(ROWS, extract, theatre_out=theatre)
    with_invalid_rows(extract)
    return SimpleNamespace(extract=extract, theatre=theatre)


def audit_command(inputs, warehouse: Path, cli: list[str] = CLI) -> list[str]:
    return [
        *cli, "run", str(inputs.extract),
        "--theatre", str(inputs.theatre), "--warehouse", str(warehouse),
        "--reports", str(warehouse.parent / "reports"),
    ]  # fmt: skip


def run_to_completion(command: list[str]) -> Path:
    """Run the command; returns the folder of its audit files."""
    result = subprocess.run(
        command, capture_output=True, text=True, cwd=REPO, env=cli_env(), timeout=300
    )
    assert result.returncode == 0, result.stderr
    return Path(re.search(r"audit files: (\S+)/", result.stdout).group(1))


def read_terminal(master: int, timeout: float) -> str:
    """What the run printed to its terminal since last read ('' once it is closed)."""
    if not select.select([master], [], [], timeout)[0]:
        return ""
    try:
        return os.read(master, 65536).decode(errors="replace")
    except OSError:  # EIO: every process holding the terminal has ended
        return ""


def live_processes_in_group(group: int) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == group and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    return found


def run_and_kill(
    command: list[str], file_name: str, marker: str, share_of_staging: float = 0,
    whole_group: bool = True,
) -> SimpleNamespace:  # fmt: skip
    """Run the command on a terminal, where it shows each stage as it starts and ends (the
    Prefect log has a task's stages only once the task ends); once it shows `marker`, and
    `share_of_staging` of the file's staging time later, SIGKILL its whole process group
    (Prefect's server with it), or the command alone. Returns the command's exit code, what
    it showed, and what of its process group was still running 10 s later."""
    master, terminal = pty.openpty()
    process = subprocess.Popen(
        command, cwd=REPO, env=cli_env(), stdin=subprocess.DEVNULL, stdout=terminal,
        stderr=terminal, start_new_session=True,
    )  # fmt: skip
    os.close(terminal)
    shown, deadline = "", time.monotonic() + 240
    try:
        while marker not in shown:
            assert process.poll() is None, f"the run ended before {marker!r}:\n{shown}"
            assert time.monotonic() < deadline, f"no {marker!r} within 240 s:\n{shown}"
            shown += read_terminal(master, timeout=0.5)
        if share_of_staging:
            staging = re.search(rf"{re.escape(file_name)}: stage completed.* in ([\d.]+) s", shown)
            time.sleep(share_of_staging * float(staging.group(1)))
        (os.killpg if whole_group else os.kill)(process.pid, signal.SIGKILL)
        returncode = process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while live_processes_in_group(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        left_running = live_processes_in_group(process.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):  # whatever is left, however this ended
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        while text := read_terminal(master, timeout=1):
            shown += text
        os.close(master)
    return SimpleNamespace(returncode=returncode, shown=shown, left_running=left_running)


def query(warehouse: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def raw_views(warehouse: Path) -> list[str]:
    """The views of kept files, and any raw or staging-input table (there should be none)."""
    return [
        name
        for (name,) in query(
            warehouse,
            "select view_name from duckdb_views() where starts_with(view_name, 'raw_') "
            "union all select table_name from duckdb_tables() "
            "where starts_with(table_name, 'raw_') or starts_with(table_name, 'stage_input_') "
            "order by 1",
        )
    ]


def kept_files(warehouse: Path) -> list[str]:
    folder = Path(f"{warehouse}.delivered")
    return sorted(kept.name for kept in folder.iterdir()) if folder.exists() else []


@pytest.fixture(scope="module", params=["while inserting", "at the commit"])
def killed_then_rerun(request, inputs, tmp_path_factory):
    """Warehouse A: a run killed in the middle of the extract's load, the warehouse as the
    kill left it, then the same run again (the real command), to completion. While inserting,
    the whole process group is killed (as `kill -9 -PGID` or a container's end would); at the
    commit, the command alone (as the out-of-memory killer would): its server must follow."""
    warehouse = tmp_path_factory.mktemp("killed") / "warehouse.duckdb"
    name = inputs.extract.name
    if request.param == "while inserting":
        command = audit_command(inputs, warehouse)
        killed = run_and_kill(command, name, f"{name}: load ...", KILL_AFTER_SHARE_OF_STAGING)
    else:
        command = audit_command(inputs, warehouse, CLI_HOLDING_THE_COMMIT)
        killed = run_and_kill(command, name, HELD, whole_group=False)
    after_kill = {
        "runs": query(warehouse, "select status, finished_at from runs"),
        "input_files": query(warehouse, "select file_name from input_files"),
        "ledger": query(warehouse, "select file_name, action from ledger"),
        "rows": {t: query(warehouse, f"select count(*) from {t}")[0][0] for t in DATA_TABLES},
        "raw views": raw_views(warehouse),
        "kept files": kept_files(warehouse),
    }
    out = run_to_completion(audit_command(inputs, warehouse))
    return SimpleNamespace(
        kill_point=request.param, warehouse=warehouse, out=out, killed=killed,
        after_kill=after_kill,
    )  # fmt: skip


@pytest.fixture(scope="module")
def uninterrupted(inputs, tmp_path_factory):
    """Warehouse B: the same inputs, one run, never interrupted."""
    warehouse = tmp_path_factory.mktemp("uninterrupted") / "warehouse.duckdb"
    out = run_to_completion(audit_command(inputs, warehouse))
    return SimpleNamespace(warehouse=warehouse, out=out)


def test_the_kill_lands_in_the_middle_of_the_load(inputs, killed_then_rerun):
    killed = killed_then_rerun.killed
    assert killed.returncode == -signal.SIGKILL
    name = inputs.extract.name
    assert f"{name}: read completed, {ROWS + 5:,} rows" in killed.shown
    assert f"{name}: load ..." in killed.shown
    if killed_then_rerun.kill_point == "at the commit":
        assert HELD in killed.shown  # every row written, nothing committed
    assert f"{name}: load completed" not in killed.shown, "killed too late: the load ended"
    # nothing of the killed run is left running: not the command, not Prefect's server
    # (which a kill of the command alone ends too: it dies with its parent)
    assert killed.left_running == []


def test_the_killed_load_left_nothing_half_loaded(killed_then_rerun):
    after_kill = killed_then_rerun.after_kill  # the warehouse opened, replaying its log
    assert after_kill["runs"] == [("running", None)]  # the run never finished
    assert after_kill["input_files"] == [] and after_kill["ledger"] == []
    assert after_kill["rows"] == dict.fromkeys(DATA_TABLES, 0)
    # only the copies of the files as read, kept before their load's transaction (the
    # theatre file may have been read alongside the extract); their views came with the load
    assert after_kill["raw views"] == []
    assert after_kill["kept files"] in (
        ["raw_episode_extract_1.txt"],
        ["raw_episode_extract_1.txt", "raw_theatre_records_2.txt"],
    )


def check_consistent(warehouse: Path, inputs) -> None:
    """No run left running; every raw view, kept file, ledger entry and row belongs to a
    loaded file, and each loaded file is there whole."""
    assert query(warehouse, "select count(*) from runs where status = 'running'") == [(0,)]
    files = query(warehouse, "select file_id, file_name, sha256 from input_files order by all")
    ledger = query(
        warehouse,
        "select file_id, file_name, sha256 from ledger where action = 'loaded' order by all",
    )
    assert ledger == files  # one to one
    assert [name for _, name, _ in files] == [inputs.extract.name, inputs.theatre.name]
    for (_, _, sha256), path in zip(files, [inputs.extract, inputs.theatre]):
        assert sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    loaded = sorted(table for (table,) in query(warehouse, "select raw_table from input_files"))
    assert raw_views(warehouse) == loaded
    assert kept_files(warehouse) == [f"{table}.txt" for table in loaded]
    for table in ["episodes", "procedures", "diagnoses", "theatre_records", "quarantine"]:
        orphans = f"select count(*) from {table} anti join input_files using (file_id)"
        assert query(warehouse, orphans) == [(0,)], table
    # each file whole: its rows read are loaded or quarantined, and the tables hold them
    assert query(
        warehouse,
        """
        select file_name, rows_read = rows_loaded + rows_quarantined,
            rows_loaded = case file_kind
                when 'episode_extract' then
                    (select count(*) from episodes where episodes.file_id = f.file_id)
                else (select count(*) from theatre_records where theatre_records.file_id = f.file_id)
            end,
            rows_quarantined = (
                select count(distinct source_row) from quarantine where quarantine.file_id = f.file_id
            )
        from input_files as f order by file_id
        """,
    ) == [(inputs.extract.name, True, True, True), (inputs.theatre.name, True, True, True)]


def test_the_rerun_recovers_and_leaves_the_warehouse_consistent(inputs, killed_then_rerun):
    warehouse = killed_then_rerun.warehouse
    assert query(warehouse, "select status, error from runs order by started_at") == [
        ("failed", "interrupted: the process ended before the run finished"),
        ("completed", None),
    ]
    check_consistent(warehouse, inputs)


def differing_rows(a: Path, b: Path, table: str) -> tuple[int, int, int]:
    """(rows in a, rows in b, rows in one and not the other), ids aside."""
    with duckdb.connect() as con:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        names = con.execute(
            "select column_name from duckdb_columns() "
            "where database_name = 'a' and schema_name = 'main' and table_name = ? "
            "order by column_index",
            [table],
        ).fetchall()
        columns = ", ".join(name for (name,) in names if name not in IDS)
        a_rows, b_rows = (
            con.execute(f"select count(*) from {db}.{table}").fetchall()[0][0] for db in "ab"
        )
        (differing,) = con.execute(
            f"""
            select count(*) from (
                (select {columns} from a.{table} except all select {columns} from b.{table})
                union all
                (select {columns} from b.{table} except all select {columns} from a.{table})
            )
            """
        ).fetchall()[0]
    return a_rows, b_rows, differing


def test_the_result_equals_an_uninterrupted_run(inputs, killed_then_rerun, uninterrupted):
    check_consistent(uninterrupted.warehouse, inputs)
    rerun = check_equal(killed_then_rerun, uninterrupted)
    assert rerun["rows_quarantined"] == 5 and rerun["procedures_assessed"] > 0


def check_equal(killed, whole) -> dict:
    """The data tables (ids aside), the audit files and summary.json (run id aside) of a
    killed-then-re-run warehouse and an uninterrupted one are equal; returns the summary."""
    for table in DATA_TABLES:
        a_rows, b_rows, differing = differing_rows(killed.warehouse, whole.warehouse, table)
        assert (table, a_rows, differing) == (table, b_rows, 0) and a_rows > 0
    for name in AUDIT_FILES:
        assert (killed.out / name).read_bytes() == (whole.out / name).read_bytes(), name
    rerun, uninterrupted = (
        {**json.loads((run.out / "summary.json").read_text()), "run_id": None}
        for run in (killed, whole)
    )
    assert rerun == uninterrupted
    return rerun
