"""The tests keep their Prefect state to themselves: a temporary PREFECT_HOME per session,
also in the processes they start, never the project's .prefect/ (whose server, `make
server`, would list the tests' runs, failed and "Running" for ever) nor ~/.prefect."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import REPO

PRINT_HOME = "from prefect.settings import get_current_settings; print(get_current_settings().home)"


def test_prefect_home_is_the_sessions_own_temporary_folder():
    from prefect.settings import get_current_settings

    home = Path(get_current_settings().home).resolve()
    assert home.is_relative_to(Path(tempfile.gettempdir()).resolve())
    assert home != (REPO / ".prefect").resolve()
    assert home != (Path.home() / ".prefect").resolve()
    assert home.is_dir()


def test_processes_the_tests_start_use_it_too():
    from prefect.settings import get_current_settings

    # as the CLI tests start the command: the session's environment, the API left out
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    printed = subprocess.run(
        [sys.executable, "-c", PRINT_HOME], cwd=REPO, env=env, capture_output=True, text=True,
        check=True, timeout=120,
    ).stdout.strip()  # fmt: skip
    assert Path(printed).resolve() == Path(get_current_settings().home).resolve()
