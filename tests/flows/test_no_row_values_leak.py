"""A run's logs and Prefect artifacts carry stage timings, counts, rule ids and file names:
never an episode id, a date or any other value from an input row.

The run is the real command with --verbose (Prefect's INFO logs on), over the sample and a
broken inbox file, with its own Prefect home, so that everything Prefect stored (logs, the
flow and task runs' states, artifacts) can be read back from its database afterwards."""

import csv
import os
import re
import shutil
import sqlite3
import subprocess

import pytest

from tests.conftest import REPO, SAMPLE
from tests.test_cli import CLI

pytestmark = pytest.mark.slow


def row_values() -> set[str]:
    """Every distinct value in the sample's data rows that could identify or describe a
    patient episode: long enough not to be a count (ages, sex codes and other numbers of up
    to 3 digits are indistinguishable from counts in a log)."""
    values = set()
    for name, delimiter in (("episodes.csv", "|"), ("theatre.csv", ",")):
        with open(SAMPLE / name, newline="") as file:
            rows = list(csv.reader(file, delimiter=delimiter))
        header = {h.strip().upper() for h in rows[0]}
        for row in rows[1:]:
            for value in row:
                value = value.strip().strip('"')
                if len(value) >= 3 and not re.fullmatch(r"\d{1,3}(\.0)?", value):
                    if value.upper() not in header:
                        values.add(value)
    return values


def test_logs_and_artifacts_carry_no_row_values(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("episodes.csv", "theatre.csv"):
        shutil.copy(SAMPLE / name, inbox / name)
    # a refused file, whose row values must not reach the refusal either
    (inbox / "broken.csv").write_text("EPIKEY|PROCODE3\n999999999999|ZZZ\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    result = subprocess.run(
        [*CLI, "run", "--inbox", str(inbox), "--verbose", "--warehouse", str(tmp_path / "wh.duckdb"),
         "--reports", str(tmp_path / "reports")],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2  # the broken file was refused; the sample loaded
    with sqlite3.connect(tmp_path / "prefect-home" / "prefect.db") as db:
        logs = [message for (message,) in db.execute("select message from log")]
        artifacts = [" ".join(map(str, row)) for row in db.execute(
            "select key, description, data from artifact")]  # fmt: skip
        states = [" ".join(map(str, row)) for row in db.execute(
            "select name, message from flow_run_state union all "
            "select name, message from task_run_state")]  # fmt: skip
    # the run did log its stages and counts, and publish its artifacts
    # 86: the data rows of data/sample/episodes.csv
    assert any("validate completed, 86 rows" in line for line in logs), logs
    assert any("liver-audit-run" in line for line in artifacts)
    printed = result.stdout + result.stderr
    assert "validate completed" in printed  # --verbose shows the logs on the console too

    everything = "\n".join([*logs, *artifacts, *states, printed])
    values = row_values() | {"999999999999", "ZZZ"}
    assert len(values) > 50  # episode ids, dates, provider codes, codes, approach texts
    leaked = sorted(
        v for v in values if re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", everything)
    )
    assert leaked == []
