"""The liver-audit command as a user runs it: help, exit codes, one-line errors."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from liver_audit.warehouse import SCHEMA_VERSION
from tests.conftest import REPO, SAMPLE

CLI = [sys.executable, "-m", "liver_audit.cli"]


def liver_audit(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


@pytest.mark.parametrize("command", [[], ["run"], ["rules"], ["history"]])
def test_every_command_has_help(command):
    result = liver_audit(*command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: liver-audit")


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "no/such/extract.csv"], "no/such/extract.csv: no such file"),
        (["run", str(SAMPLE / "theatre.csv")], "missing column(s) PROCODE3"),
        (
            ["run", str(SAMPLE / "episodes.csv"), "--theatre", str(SAMPLE / "episodes.csv")],
            "missing column(s) OPDATE, APPROACH",
        ),
        (["run"], "nothing to load: name extract files, or an --inbox folder"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_unusable_input_exits_2_with_one_line(args, message):
    result = liver_audit(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr


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
    assert line.split()[3:9] == ["completed", "84", "70", "14", "41", "51.2"]
    assert float(line.split()[9]) > 0  # seconds taken
    # and the run's timed stages, every file's and the run's own
    stages = liver_audit("history", "--warehouse", str(tmp_path / "wh.duckdb"), "--run", run_id)
    assert stages.returncode == 0
    # file, stage, started, seconds, [rows,] status: summarise counts no rows
    rows = [line.split() for line in stages.stdout.splitlines()[1:]]
    assert [(row[0], row[1], row[-2] if len(row) == 6 else "", row[-1]) for row in rows] == [
        ("(run)", "plan", "2", "completed"),
        ("episodes.csv", "read", "56", "completed"),
        ("episodes.csv", "stage", "56", "completed"),
        ("episodes.csv", "validate", "56", "completed"),
        ("episodes.csv", "load", "44", "completed"),
        ("theatre.csv", "read", "28", "completed"),
        ("theatre.csv", "stage", "28", "completed"),
        ("theatre.csv", "validate", "28", "completed"),
        ("theatre.csv", "load", "26", "completed"),
        ("(run)", "assess", "41", "completed"),
        ("(run)", "summarise", "", "completed"),
        ("(run)", "write", "41", "completed"),
    ]
    unknown = liver_audit("history", "--warehouse", str(tmp_path / "wh.duckdb"), "--run", "x")
    assert unknown.returncode == 2 and "no stages recorded for run x" in unknown.stderr


def test_a_warehouse_in_use_gives_one_line_and_exit_1(tmp_path):
    """DuckDB allows one writing process: the second run says so instead of failing later."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)",
         str(tmp_path / "wh.duckdb")],
        stdout=subprocess.PIPE, text=True,
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
