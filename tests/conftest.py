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

import duckdb  # noqa: E402
import pytest  # noqa: E402

from liver_audit.warehouse import connect  # noqa: E402
from liver_audit.warehouse.connection import session_settings  # noqa: E402

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


@pytest.fixture(scope="session")
def empty_warehouse(tmp_path_factory) -> Path:
    """A warehouse file as connect() makes it (schema, reference tables, views, no rows),
    made once per test process: fresh_db copies it."""
    path = tmp_path_factory.mktemp("template") / "empty.duckdb"
    connect(path).close()
    return path


@pytest.fixture
def fresh_db(empty_warehouse):
    """An empty in-memory warehouse: schema, reference tables and views, no rows; a copy of
    empty_warehouse with connect()'s session settings (0.12 s, against 0.27 s to build it
    anew; 240 rule cases and 150 loading cases use one each)."""
    con = duckdb.connect(":memory:")
    con.execute("attach ? as empty_warehouse (read_only)", [str(empty_warehouse)])
    con.execute("copy from database empty_warehouse to memory")
    con.execute("detach empty_warehouse")
    session_settings(con)
    yield con
    con.close()
