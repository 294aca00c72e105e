"""The flow a Prefect worker runs for a fanned-out audit run: prepare one input file (read,
stage, validate) and hand it over in the shared work folder (liver_audit/fan_out.py)."""

import atexit
from pathlib import Path

from prefect import flow, get_run_logger

from liver_audit.fan_out import PREPARE_FLOW, prepare_to_folder, worker_name
from liver_audit.prefect_server import stop_prefect_loops

# A worker's flow-run process ends quietly (stop_prefect_loops says why).
atexit.register(stop_prefect_loops)


@flow(name=PREPARE_FLOW)
def prepare_on_worker(
    path: str,
    kind: str,
    file_id: int,
    folder: str,
    synonyms: list[list[str]],
    layout: dict | None = None,
) -> None:
    """Read, stage and validate `path` on this worker, by its layout (an episode extract's,
    decided by the run); write the result to `folder`."""
    prepare_to_folder(Path(path), kind, file_id, Path(folder), synonyms, layout)
    get_run_logger().info("%s: prepared on %s", Path(path).name, worker_name())
