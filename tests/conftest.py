"""Shared fixtures: one Prefect test harness per session, a fresh in-memory warehouse per test."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# Before prefect is imported: Prefect state of the session's own (its database, results,
# profiles), also for every process the tests start (they inherit it), so that the tests'
# flow runs never land in the project's .prefect/ (make run, make server) or ~/.prefect; and
# no server named from outside.
PREFECT_HOME = Path(tempfile.mkdtemp(prefix="liver-audit-tests-prefect-"))
os.environ["PREFECT_HOME"] = str(PREFECT_HOME)
for name in ("PREFECT_API_URL", "PREFECT_PROFILE"):
    os.environ.pop(name, None)
atexit.register(shutil.rmtree, PREFECT_HOME, ignore_errors=True)
# No telemetry, a patient start-up on 2 cores, quiet logs.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import pytest  # noqa: E402

from liver_audit.warehouse import connect  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "sample"
EXTERNAL = REPO.parent / "shared" / "external"


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory):
    """A temporary Prefect server for the flow tests (prefect-here.md, recipe a)."""
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_RESULTS_LOCAL_STORAGE_PATH,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    storage = tmp_path_factory.mktemp("prefect-results")
    with temporary_settings(
        updates={
            PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
            PREFECT_RESULTS_LOCAL_STORAGE_PATH: storage,
        }
    ):
        with prefect_test_harness(server_startup_timeout=None):
            yield


@pytest.fixture
def fresh_db():
    """An empty in-memory warehouse: schema, reference tables and views, no rows."""
    con = connect(":memory:")
    yield con
    con.close()
