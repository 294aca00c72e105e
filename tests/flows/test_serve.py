"""The nightly deployment on a real Prefect server: `liver-audit serve` registers
liver-audit/nightly with its cron schedule and timezone from liver-audit.toml, the server
schedules the next runs at 02:00 in that zone, and a run started by hand through the API
completes: the inbox is loaded into the warehouse, its files moved to processed/, and the
report written. And serve ends on SIGTERM."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from tests.conftest import REPO, SAMPLE


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api(url: str, body: dict | None = None):
    """GET url, or POST body to it as JSON; the decoded answer, or None for a 404."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise


def tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-40:]) if log.exists() else ""


def wait_for(what: str, check, timeout: float, *processes: tuple[subprocess.Popen, Path]):
    """Poll check() until it returns something truthy; fail, with the logs, on timeout or
    when a background process has died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        for process, log in processes:
            if process.poll() is not None:
                pytest.fail(f"{what}: {log.name} exited with {process.returncode}\n{tail(log)}")
        time.sleep(0.5)
    logs = "\n".join(f"--- {log.name}\n{tail(log)}" for _, log in processes)
    pytest.fail(f"{what}: not within {timeout:.0f} s\n{logs}")


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    """A background process in its own process group (stopped with its children)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group, SIGKILL if it is not gone within 15 s."""
    for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=grace)
            # the group may outlive its leader: make sure none of it lingers
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            break
        except subprocess.TimeoutExpired:
            continue
        break


@pytest.fixture
def prefect_env(tmp_path) -> dict:
    """The environment of the server and serve processes: a throw-away PREFECT_HOME, no
    telemetry, quiet logs, and a Prefect server of their own on a free port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return env | {
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }


@pytest.fixture
def prefect_server(prefect_env, tmp_path):
    """`prefect server start` on 127.0.0.1, healthy; stopped (with its children) after."""
    url = prefect_env["PREFECT_API_URL"]
    port = url.split(":")[-1].split("/")[0]
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
               "--port", port]  # fmt: skip
    log = tmp_path / "server.log"
    server = start(command, prefect_env, log)
    try:
        wait_for("the Prefect server's /api/health", lambda: healthy(url), 90, (server, log))
        yield server, log
    finally:
        stop(server)


def healthy(url: str) -> bool:
    try:
        return api(f"{url}/health") is True
    except OSError:
        return False


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
        assert deployment["parameters"]["inbox"] == str(inbox.resolve())
        assert deployment["parameters"]["move_processed"] is True

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
        assert con.sql("select status, procedures_assessed from runs").fetchall() == [
            ("completed", 41)
        ]
    assert sorted(p.name for p in inbox.iterdir()) == ["processed"]
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == [
        "episodes.csv",
        "theatre.csv",
    ]
    assert len(list((tmp_path / "reports").glob("*/report.html"))) == 1


def final_state(flow_run: dict) -> tuple[str, str] | None:
    state = flow_run["state"]
    if state and state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
        return state["type"], state["name"]
    return None
