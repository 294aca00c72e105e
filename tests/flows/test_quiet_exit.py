"""A process that ran the audit flow ends quietly: no nanobind "leaked instance" report from
DuckDB's bindings at exit (an operator reads it as a crash). Prefect's daemon event-loop
threads held the flow run's context, and through it DuckDB's classes, past teardown."""

import subprocess
import sys

import pytest

from tests.conftest import REPO, SAMPLE

pytestmark = pytest.mark.slow

# The flow loaded as a flow-run process loads it (`python -m prefect.engine`, under serve
# and on workers): from its entrypoint.
FLOW_RUN = """
import sys
from prefect.flows import load_flow_from_entrypoint
from liver_audit.config import default_settings
audit_run = load_flow_from_entrypoint("flows/audit.py:audit_run")
audit_run(default_settings(warehouse=sys.argv[3], reports=sys.argv[4]), extracts=[sys.argv[1]],
          theatre=sys.argv[2])
print("flow run completed")
"""


def test_a_flow_run_process_ends_without_a_leak_report(prefect_env, prefect_server, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", FLOW_RUN, str(SAMPLE / "episodes.csv"),
         str(SAMPLE / "theatre.csv"), str(tmp_path / "warehouse.duckdb"), str(tmp_path / "reports")],
        cwd=REPO, env=prefect_env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    printed = result.stdout + result.stderr
    assert result.returncode == 0, printed
    assert "flow run completed" in result.stdout
    assert "leaked" not in printed, printed
