"""A per-stage progress line on long runs, for a person at a terminal; silent otherwise
(cron, CI, pipes, Prefect workers). Counts and file names only, never row values."""

import sys
import time

_started = time.monotonic()


def stage(message: str, stream=None) -> None:
    """Show `message` (e.g. 'extract.csv: validating 5,000,000 rows') if stderr is a terminal."""
    stream = stream or sys.stderr
    if getattr(stream, "isatty", lambda: False)():
        print(f"[{time.monotonic() - _started:6.1f}s] {message}", file=stream, flush=True)
