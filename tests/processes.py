"""Background processes for tests that need real servers: a Prefect server, workers, serve.
Each runs in its own process group, is watched while a test waits on it, and is stopped with
its children afterwards."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api(url: str, body: dict | None = None):
    """GET url, or POST body to it as JSON; the decoded answer, or None for a 404. A server
    busy on 2 cores answers 503 (its SQLite database locked by another writer) or slowly:
    both retried, as Prefect's own client does (PREFECT_CLIENT_MAX_RETRIES)."""
    data = None if body is None else json.dumps(body).encode()
    for attempt in range(6):
        request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            if error.code not in (429, 502, 503) or attempt == 5:
                raise
        except TimeoutError:
            if attempt == 5:
                raise
        time.sleep(2**attempt / 4)


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


def healthy(url: str) -> bool:
    try:
        return api(f"{url}/health") is True
    except OSError:
        return False


def final_state(flow_run: dict) -> tuple[str, str] | None:
    state = flow_run["state"]
    if state and state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
        return state["type"], state["name"]
    return None
