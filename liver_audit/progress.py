"""The stages of a run: each is timed for the warehouse's run_stages table, and shown as a
progress line to a person at a terminal; silent otherwise (cron, CI, pipes, Prefect workers).
Counts, stage and file names only, never row values."""

import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from liver_audit.errors import no_row_values, one_line

_started = time.monotonic()


def stage(message: str, stream=None) -> None:
    """Show `message` (e.g. 'extract.csv: validate 5,000,000 rows') if stderr is a terminal."""
    stream = stream or sys.stderr
    if getattr(stream, "isatty", lambda: False)():
        print(f"[{time.monotonic() - _started:6.1f}s] {one_line(message)}", file=stream, flush=True)


@dataclass
class StageRecord:
    """One timed stage: a row of run_stages."""

    stage: str
    file_name: str | None
    started_at: datetime
    seconds: float | None = None
    rows: int | None = None
    status: str = "running"  # then completed or failed
    error: str | None = None  # the error's type on failure, never its message
    worker: str | None = None  # fan-out: the worker that ran it; None: the run's own machine

    def as_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """'episodes.csv: validate completed, 56 rows in 0.12 s' (counts only)."""
        rows = "" if self.rows is None else f", {self.rows:,} rows"
        outcome = self.status if self.error is None else f"{self.status} ({self.error})"
        return f"{self.file_name or 'run'}: {self.stage} {outcome}{rows} in {self.seconds:.2f} s"


class Stages:
    """Times a task's stages: `with stages("validate", rows=n) as record: ...`; a stage can
    set record.rows once it knows them."""

    def __init__(self, file_name: str | None = None, stream=None):
        self.file_name = file_name
        self.stream = stream
        self.records: list[StageRecord] = []

    @contextmanager
    def __call__(self, name: str, rows: int | None = None):
        record = StageRecord(name, self.file_name, datetime.now(UTC), rows=rows)
        self.records.append(record)
        counted = "" if rows is None else f" {rows:,} rows"
        stage(f"{self.file_name or 'run'}: {name}{counted} ...", self.stream)
        start = time.perf_counter()
        with no_row_values(f"{self.file_name or 'run'}, stage {name}"):
            try:
                yield record
            except BaseException as error:
                record.status, record.error = "failed", type(error).__name__
                raise
            else:
                record.status = "completed"
            finally:
                record.seconds = time.perf_counter() - start
                stage(record.describe(), self.stream)
