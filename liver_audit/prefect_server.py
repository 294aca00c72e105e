"""A temporary Prefect server for one CLI run, started before anything else imports.

Without PREFECT_API_URL, Prefect starts the same kind of server itself, but only when the
flow starts, and only after importing its server modules in this process (about 2.5 s here).
Starting the uvicorn process first lets it boot while the CLI imports and checks its inputs,
which takes about 3 s off every run. The command and environment follow Prefect 3.8's
SubprocessASGIServer (prefect/server/api/server.py).
"""

import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

SERVER_ENV = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    """In the server process: end with the CLI, even if the CLI is killed (SIGKILL leaves
    no chance to stop it), rather than linger on its port (Linux prctl PR_SET_PDEATHSIG)."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)


def stop_prefect_loops(timeout: float = 5) -> None:
    """At interpreter exit, end Prefect's two background event-loop threads. They are daemon
    threads, which Python never ends: their queued calls and asyncio tasks still hold the
    context of the flow run that started them (the flow, its module's globals and through
    them DuckDB's classes), and DuckDB's nanobind bindings print about 40 "leaked instance"
    lines for what is still held at teardown. Prefect's services (logs, events) have drained
    by then: they drain before atexit handlers run."""
    threads = sys.modules.get("prefect._internal.concurrency.threads")
    if threads is None:
        return
    for loop in (threads._global_loop, threads._run_sync_loop):
        if loop is not None and loop.thread.is_alive():
            loop.shutdown()
            loop.thread.join(timeout)


class TemporaryServer:
    def __init__(self) -> None:
        self.port = _free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.process: subprocess.Popen | None = None

    def start(self) -> "TemporaryServer":
        prefect_dir = Path(importlib.util.find_spec("prefect").submodule_search_locations[0])
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect_dir.parent),
             "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
            env={**os.environ, **SERVER_ENV},
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )  # fmt: skip
        return self

    def wait_until_healthy(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process and self.process.poll() is None:
            if self.is_healthy(self.api_url):
                return True
            time.sleep(0.1)
        return False

    @staticmethod
    def is_healthy(api_url: str) -> bool:
        """Whether a Prefect server answers at api_url."""
        try:
            with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
