"""The nightly deployment on a real Prefect server: `liver-audit serve` registers
liver-audit/nightly with its cron schedule and timezone from liver-audit.toml, the server
schedules the next runs at 02:00 in that zone, and a run started by hand through the API
completes: the inbox is loaded into the warehouse, its files moved to processed/, and the
report written. And serve ends on SIGTERM."""

import shutil
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb
import pytest

from tests.conftest import SAMPLE
from tests.processes import api, final_state, start, stop, tail, wait_for

pytestmark = pytest.mark.slow


def test_serve_registers_the_nightly_and_runs_it(prefect_env, prefect_server, tmp_path):
    url = prefect_env["PREFECT_API_URL"]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("episodes.csv", "theatre.csv"):
        shutil.copy(SAMPLE / name, inbox / name)
    config = tmp_path / "liver-audit.toml"
    config.write_text(
        'warehouse = "warehouse.duckdb"\ninbox = "inbox"\nreports = "reports"\n'
        'move_processed = true\nschedule = "0 2 * * *"\ntimezone = "Europe/London"\n'
    )
    log = tmp_path / "serve.log"
    serve = start(
        [sys.executable, "-m", "liver_audit.cli", "serve", "--config", str(config)],
        prefect_env | {"PREFECT_RUNNER_POLL_FREQUENCY": "2"},
        log,
    )
    watched = [(serve, log), prefect_server]
    try:
        deployment = wait_for(
            "deployment liver-audit/nightly",
            lambda: api(f"{url}/deployments/name/liver-audit/nightly"),
            90,
            *watched,
        )
        assert [
            (s["schedule"].get("cron"), s["schedule"].get("timezone"), s["active"])
            for s in deployment["schedules"]
        ] == [("0 2 * * *", "Europe/London", True)]
        assert not deployment["paused"]
        settings = deployment["parameters"]["settings"]
        assert settings["inbox"] == str(inbox.resolve())
        assert settings["move_processed"] is True

        run = api(f"{url}/deployments/{deployment['id']}/create_flow_run", {})
        state = wait_for(
            "the flow run started by hand to end",
            lambda: final_state(api(f"{url}/flow_runs/{run['id']}")),
            180,
            *watched,
        )
        assert state == ("COMPLETED", "Completed"), f"{state}\n{tail(log)}"

        # the server's scheduler made the next nightly runs, at 02:00 London time
        scheduled = wait_for(
            "the scheduled nightly runs",
            lambda: api(
                f"{url}/flow_runs/filter",
                {
                    "deployments": {"id": {"any_": [deployment["id"]]}},
                    "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
                    "sort": "EXPECTED_START_TIME_ASC",
                },
            ),
            60,
            *watched,
        )
        for next_run in scheduled:
            start_time = datetime.fromisoformat(next_run["expected_start_time"])
            assert start_time.astimezone(ZoneInfo("Europe/London")).time().isoformat() == "02:00:00"
    finally:
        stop(serve)
    assert serve.returncode == 0, tail(log)  # it ends on SIGTERM, not killed

    # the run's effect: warehouse, inbox and report
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        # 158 positions assessed: data/sample/README.md, "Expected totals"
        assert con.sql("select status, procedures_assessed from runs").fetchall() == [
            ("completed", 158)
        ]
    assert sorted(p.name for p in inbox.iterdir()) == ["processed"]
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == [
        "episodes.csv",
        "theatre.csv",
    ]
    assert len(list((tmp_path / "reports").glob("*/report.html"))) == 1
