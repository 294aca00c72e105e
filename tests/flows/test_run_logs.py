"""A run's own log reaches the Prefect UI: every stage's line, with its timing and counts, is
in the flow run's logs as the API serves them (what the UI shows), while Prefect's own
loggers stay at WARNING and the console stays quiet. The command runs as a user runs it,
with Prefect's settings from no one but itself."""

import re
import subprocess

import pytest

from tests.conftest import REPO, SAMPLE
from tests.flows.test_no_row_values_leak import row_values
from tests.processes import api
from tests.test_cli import CLI

pytestmark = pytest.mark.slow

STAGES = [
    "episodes.csv: read completed", "episodes.csv: stage completed",
    "episodes.csv: validate completed, 86 rows", "episodes.csv: load completed",  # 86: sample rows
    "theatre.csv: load completed", "run: plan completed", "run: assess completed",
    "run: summarise completed", "run: write completed",
]  # fmt: skip


def test_the_stage_lines_reach_the_prefect_api_and_carry_no_row_values(
    prefect_env, prefect_server, tmp_path
):
    url = prefect_env["PREFECT_API_URL"]
    result = subprocess.run(
        [*CLI, "run", str(SAMPLE / "episodes.csv"), "--theatre", str(SAMPLE / "theatre.csv"),
         "--warehouse", str(tmp_path / "wh.duckdb"), "--reports", str(tmp_path / "reports")],
        capture_output=True, text=True, cwd=REPO, env=prefect_env, timeout=300,
    )  # fmt: skip
    printed = result.stdout + result.stderr
    assert result.returncode == 0, printed

    [flow_run] = api(f"{url}/flow_runs/filter", {})
    logs = api(
        f"{url}/logs/filter",
        {"logs": {"flow_run_id": {"any_": [flow_run["id"]]}}, "sort": "TIMESTAMP_ASC"},
    )
    messages = [log["message"] for log in logs]
    for stage in STAGES:
        assert any(m.startswith(stage) for m in messages), (stage, messages)
    stage_lines = [
        log for log in logs if re.search(r" completed(, [\d,]+ rows)? in ", log["message"])
    ]
    assert {log["level"] for log in stage_lines} == {20}  # INFO

    assert "validate completed" not in printed  # the console (piped) keeps to the summary
    everything = "\n".join(messages)
    leaked = sorted(
        v for v in row_values() if re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", everything)
    )
    assert leaked == []
