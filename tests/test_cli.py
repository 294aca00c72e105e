"""The liver-audit command as a user runs it: help, exit codes, one-line errors."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from liver_audit.warehouse import SCHEMA_VERSION
from tests.conftest import REPO, SAMPLE

CLI = [sys.executable, "-m", "liver_audit.cli"]


def liver_audit(*args: str, cwd: Path = REPO, stdin: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300,
        input=stdin,
    )  # fmt: skip


@pytest.mark.parametrize(
    "command",
    [[], ["run"], ["rules"], ["history"], ["sql"], ["config"], ["serve"], ["layouts"], ["inspect"]],
)
def test_every_command_has_help(command):
    result = liver_audit(*command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: liver-audit")


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "no/such/extract.csv"], "no/such/extract.csv: no such file"),
        (
            ["run", str(SAMPLE / "theatre.csv")],
            f"{SAMPLE / 'theatre.csv'}: this looks like a theatre file (EPIKEY, OPDATE, APPROACH):"
            " use --theatre",
        ),
        (
            ["run", str(SAMPLE / "episodes.csv"), "--theatre", str(SAMPLE / "episodes.csv")],
            f"{SAMPLE / 'episodes.csv'}: this looks like an episode extract (OPERTN_4_nn columns):"
            " name it as an EXTRACT, not --theatre",
        ),
        (["run", str(SAMPLE)], f"{SAMPLE}: is a folder, not a file (a folder of files: --inbox)"),
        (
            ["run", "--inbox", str(SAMPLE / "episodes.csv")],
            f"{SAMPLE / 'episodes.csv'}: is a file, not a folder: --inbox takes the folder",
        ),
        (["run", str(SAMPLE / "README.md")], "missing column(s)"),
        (["run"], "nothing to load: name extract files, or an --inbox folder"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_unusable_input_exits_2_with_one_line(args, message):
    result = liver_audit(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr


@pytest.mark.slow  # a real run through the CLI, its own Prefect server: make test-all (CI)
def test_sample_run_exits_0_and_says_where_the_files_are(tmp_path):
    result = liver_audit(
        "run", str(SAMPLE / "episodes.csv"), "--theatre", str(SAMPLE / "theatre.csv"),
        "--warehouse", str(tmp_path / "wh.duckdb"), "--out", str(tmp_path / "out"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"audit files: {tmp_path / 'out'}/" in result.stdout
    for name in ("assessments.csv", "quarantine.csv", "summary.json", "report.html"):
        assert (tmp_path / "out" / name).is_file()
    # what the terminal shows carries counts and file names, never an episode id
    episode_ids = set(re.findall(r"\b\d{12}\b", (SAMPLE / "episodes.csv").read_text()))
    printed = result.stdout + result.stderr
    assert not episode_ids & set(re.findall(r"\d{12}", printed))
    assert "Traceback" not in printed and "leaked" not in printed
    # the run is recorded, and history shows it from the warehouse
    run_id = re.search(r"liver-audit run (\S+) completed", result.stdout).group(1)
    history = liver_audit("history", "--warehouse", str(tmp_path / "wh.duckdb"))
    assert history.returncode == 0
    (line,) = [line for line in history.stdout.splitlines() if line.startswith(run_id)]
    # data/sample/README.md, "Expected totals": rows read 86 + 34, loaded 74 + 32, quarantined
    # 12 + 2; 158 positions assessed (opcs_code_in_force judges every code of the 70
    # episodes); per rule, compliant of findings ("Findings")
    assert (
        line.split()[3:-1]
        == ["completed", "120", "106", "14", "158"]
        + (
            "approach_code_directly_after 91.9% of 37; chemosaturation_method_codes 33.3% of 3; "
            "icd10_code_in_force 98.2% of 112; ire_method_codes 33.3% of 3; laparoscopic_ablation_approach 50.0% of 2; "
            "liver_indication_coded 96.8% of 63; liver_resection_approach 55.1% of 49; "
            "opcs_code_in_force 98.1% of 158; open_liver_ablation_method 20.0% of 5; "
            "percutaneous_ablation_image_control 50.0% of 4; "
            "percutaneous_laser_ablation_coding 33.3% of 3; sirt_method_codes 33.3% of 3; "
            "subsidiary_code_in_primary_position 98.6% of 70"
        ).split()
    )
    assert float(line.split()[-1]) > 0  # seconds taken
    # and the run's timed stages, every file's and the run's own
    stages = liver_audit("history", "--warehouse", str(tmp_path / "wh.duckdb"), "--run", run_id)
    assert stages.returncode == 0
    # file, stage, started, seconds, [rows,] status: summarise counts no rows
    rows = [line.split() for line in stages.stdout.splitlines()[1:]]
    # the files' stages may interleave (read side by side): by file, each in time order
    place = {"plan": 0, "assess": 2, "summarise": 2, "write": 2}
    rows.sort(key=lambda row: (place.get(row[1], 1), row[0] if row[0] != "(run)" else ""))
    assert [(row[0], row[1], row[-2] if len(row) == 6 else "", row[-1]) for row in rows] == [
        ("(run)", "plan", "2", "completed"),
        ("episodes.csv", "read", "86", "completed"),
        ("episodes.csv", "stage", "86", "completed"),
        ("episodes.csv", "validate", "86", "completed"),
        ("episodes.csv", "load", "74", "completed"),
        ("theatre.csv", "read", "34", "completed"),
        ("theatre.csv", "stage", "34", "completed"),
        ("theatre.csv", "validate", "34", "completed"),
        ("theatre.csv", "load", "32", "completed"),
        ("(run)", "assess", "512", "completed"),  # findings: data/sample/README.md
        ("(run)", "summarise", "", "completed"),
        ("(run)", "write", "512", "completed"),
    ]
    unknown = liver_audit("history", "--warehouse", str(tmp_path / "wh.duckdb"), "--run", "x")
    assert unknown.returncode == 2 and "no stages recorded for run x" in unknown.stderr


def test_a_warehouse_in_use_gives_one_line_and_exit_1(tmp_path):
    """DuckDB allows one writing process: the second run says so instead of failing later.
    The holder keeps the warehouse open until the test ends, however long the run's start."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); sys.stdin.read()",
         str(tmp_path / "wh.duckdb")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = liver_audit(
            "run", str(SAMPLE / "episodes.csv"), "--warehouse", str(tmp_path / "wh.duckdb")
        )
    finally:
        holder.kill()
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"liver-audit: {tmp_path / 'wh.duckdb'}: the warehouse is in use by another process"
    ]


def has_open(pid: int, path: Path) -> bool:
    """Whether process `pid` has `path` open (Linux: /proc/<pid>/fd)."""
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # ended
        return False
    for fd in fds:
        try:
            if os.readlink(fd) == str(path):
                return True
        except OSError:  # closed meanwhile
            pass
    return False


@pytest.mark.slow  # two real runs at once: make test-all (CI)
def test_a_run_meets_another_run_holding_the_warehouse(tmp_path):
    """One run at a time: without waiting the second exits 1 in one line; allowed to wait,
    it runs once the first has finished. The lock is held until the test lets it go, not for
    a fixed time: a run's start (Prefect's temporary server) takes 5 to 30 s here."""
    lock = tmp_path / "wh.duckdb.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()",
         str(lock)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    run = [*CLI, "run", str(SAMPLE / "episodes.csv"), "--warehouse", str(tmp_path / "wh.duckdb"),
           "--reports", str(tmp_path / "reports")]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    waiting = None
    try:
        assert holder.stdout.readline().strip() == "held"
        refused = subprocess.run(run, capture_output=True, text=True, cwd=REPO, env=env,
                                 timeout=300)  # fmt: skip
        waiting = subprocess.Popen(
            [*run, "--wait-for-warehouse", "120"], cwd=REPO, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        # the second run is at the lock (it opens the lock file, then tries it) while held
        deadline = time.monotonic() + 300
        while waiting.poll() is None and not has_open(waiting.pid, lock):
            assert time.monotonic() < deadline, "the waiting run never reached the lock"
            time.sleep(0.1)
        assert waiting.poll() is None, waiting.communicate()
        holder.communicate("")  # lets go of the lock
        waited_out, waited_err = waiting.communicate(timeout=300)
    finally:
        for process in (holder, waiting):
            if process and process.poll() is None:
                process.kill()
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"liver-audit: {tmp_path / 'wh.duckdb'}: another liver-audit run is using the warehouse"
    ]
    assert waiting.returncode == 0, waited_err
    assert "completed" in waited_out


@pytest.mark.slow  # two real runs at once: make test-all (CI)
def test_two_runs_started_at_once_load_each_file_once(tmp_path):
    run = [*CLI, "run", str(SAMPLE / "episodes.csv"), "--theatre", str(SAMPLE / "theatre.csv"),
           "--warehouse", str(tmp_path / "wh.duckdb"), "--reports", str(tmp_path / "reports"),
           "--wait-for-warehouse", "120"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    runs = [subprocess.Popen(run, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(2)]  # fmt: skip
    outputs = [process.communicate(timeout=300)[0] for process in runs]
    assert [process.returncode for process in runs] == [0, 0]
    assert sum("nothing new" in output for output in outputs) == 1
    import duckdb

    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        assert con.sql("select action, count(*) from ledger group by 1 order by 1").fetchall() == [
            ("loaded", 2),
            ("skipped", 2),
        ]
        # 74 loaded: data/sample/README.md, "Expected totals"
        assert con.sql("select count(*) from episodes").fetchall() == [(74,)]


def test_config_prints_the_effective_settings_and_their_sources(tmp_path):
    (tmp_path / "liver-audit.toml").write_text('inbox = "deliveries"\nmove_processed = true\n')
    result = liver_audit("config", "--timezone", "UTC", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert lines["inbox"].startswith('inbox = "deliveries"')
    assert lines["inbox"].endswith("# liver-audit.toml")
    assert lines["timezone"].endswith("# --timezone") and '"UTC"' in lines["timezone"]
    assert lines["move_processed"].startswith("move_processed = true")
    assert lines["schedule"].endswith("# default")


def test_a_warehouse_of_another_schema_version_is_refused_in_one_line(tmp_path):
    import duckdb

    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("create table warehouse_info (key varchar primary key, value varchar)")
        con.execute("insert into warehouse_info values ('schema_version', '0')")
    result = liver_audit(
        "run", str(SAMPLE / "episodes.csv"), "--warehouse", str(tmp_path / "wh.duckdb")
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"liver-audit: {tmp_path / 'wh.duckdb'}: warehouse schema version 0, this liver-audit "
        f"writes version {SCHEMA_VERSION}: use a new --warehouse"
    ]


def test_a_header_only_extract_is_refused_in_one_line(tmp_path):
    extract = tmp_path / "extract.txt"
    extract.write_text("EPIKEY|PROCODE3|ADMIDATE|EPISTART|EPIEND|SEX|STARTAGE|OPERTN_4_01\n")
    result = liver_audit("run", str(extract), "--warehouse", str(tmp_path / "wh.duckdb"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"liver-audit: {extract}: no data rows"]


@pytest.mark.slow  # a real run through the CLI, its own Prefect server: make test-all (CI)
def test_a_header_only_file_in_the_inbox_is_refused_and_the_others_load(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "episodes.csv").write_bytes((SAMPLE / "episodes.csv").read_bytes())
    (inbox / "empty.csv").write_text("EPIKEY,OPDATE,APPROACH\n")
    result = liver_audit(
        "run", "--inbox", str(inbox), "--warehouse", str(tmp_path / "wh.duckdb"),
        "--reports", str(tmp_path / "reports"),
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"liver-audit: refused {inbox / 'empty.csv'}: no data rows"
    ]
    # 86: the rows of data/sample/episodes.csv (empty.csv has none)
    assert "refused empty.csv" in result.stdout and "86 read" in result.stdout


def test_config_prints_every_environment_knob_with_its_value_and_source(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "LIVER_AUDIT"))}
    env |= {"LIVER_AUDIT_MEMORY_LIMIT": "3GB", "LIVER_AUDIT_WORKER": "ward-pc"}
    result = subprocess.run(
        [*CLI, "config"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    knobs = {
        line.split()[1]: line for line in result.stdout.splitlines() if line.startswith("# LIVER")
    }
    assert sorted(knobs) == [
        "LIVER_AUDIT_CONFIG", "LIVER_AUDIT_DEBUG", "LIVER_AUDIT_LOAD_WORKERS",
        "LIVER_AUDIT_MEMORY_LIMIT", "LIVER_AUDIT_WORKER", "LIVER_AUDIT_WORKER_TIMEOUT",
    ]  # fmt: skip
    assert knobs["LIVER_AUDIT_MEMORY_LIMIT"].startswith('# LIVER_AUDIT_MEMORY_LIMIT = "3GB"')
    assert knobs["LIVER_AUDIT_MEMORY_LIMIT"].endswith("# environment")
    assert knobs["LIVER_AUDIT_WORKER"].endswith("# environment")
    assert knobs["LIVER_AUDIT_LOAD_WORKERS"].startswith("# LIVER_AUDIT_LOAD_WORKERS = 2")
    assert knobs["LIVER_AUDIT_LOAD_WORKERS"].endswith("# default")
    assert knobs["LIVER_AUDIT_DEBUG"].startswith("# LIVER_AUDIT_DEBUG = (not set)")
