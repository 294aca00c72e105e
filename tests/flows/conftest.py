"""A real Prefect server on 127.0.0.1 for the tests that need one (serve, fan-out)."""

import os
import sys

import pytest

from tests.processes import free_port, healthy, start, stop, wait_for


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
        # The server marks a worker offline within seconds of its last heartbeat (its
        # foreman checks every 15 s by default): the fan-out tests kill workers.
        "PREFECT_SERVER_SERVICES_FOREMAN_LOOP_SECONDS": "1",
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
