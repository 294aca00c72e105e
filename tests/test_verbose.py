"""`liver-audit run --verbose` shows Prefect's run log (stages, counts, states), a message a
line and never a traceback: a traceback can quote row values."""

import os
import re
import subprocess
import sys

import pytest  # noqa: E402

from tests.conftest import REPO
from tests.tables import episode_extract

# Real runs end to end: make test-all (CI).
pytestmark = pytest.mark.slow

# Prefect's console log line: "20:15:44.533 | INFO    | Flow run 'x' - message"
LOG_LINE = re.compile(r"\d\d:\d\d:\d\d\.\d{3} \| (INFO|WARNING|ERROR|CRITICAL) +\| ")


def test_verbose_shows_stages_one_line_each_and_no_traceback(tmp_path):
    # a quote never closed: the file is refused inside the flow, which then fails
    rows = [{"EPIKEY": "000000000001", "codes": "J023 Y752"}]
    rows += [{"EPIKEY": "000000000002", "PROCODE3": '"RXA'}]
    rows += [{"EPIKEY": f"{n:012d}"} for n in range(3, 20)]
    broken = episode_extract(tmp_path / "bro\nken.txt", rows)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    result = subprocess.run(
        [sys.executable, "-m", "liver_audit.cli", "run", str(broken), "--verbose",
         "--warehouse", str(tmp_path / "wh.duckdb"), "--reports", str(tmp_path / "reports")],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "Traceback" not in output and 'File "' not in output
    # useful still: the stages with their counts, and the states
    assert "bro\\nken.txt: read failed (UnusableInput)" in output
    assert "run: assess completed, 0 rows" in output
    assert "Finished in state Failed(" in output
    # every line is Prefect's log line or the CLI's own: none continues a message
    cli_lines = ("liver-audit", "  ")
    for line in output.splitlines():
        assert LOG_LINE.match(line) or line.startswith(cli_lines), line
