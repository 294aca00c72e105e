"""Errors the CLI turns into one-line messages. Messages name files, rows and fields only."""

import os
from contextlib import contextmanager


class UnusableInput(Exception):
    """An input file or argument the pipeline cannot use (CLI exit code 2)."""


class RefusedFiles(UnusableInput):
    """Some inbox files were refused; the rest of the run went ahead (CLI exit code 2)."""

    def __init__(self, message: str, summary: dict | None = None):
        super().__init__(message)
        self.summary = summary  # what the run did with the other files

    def __str__(self) -> str:
        return self.args[0]


class ReconciliationError(Exception):
    """Rows read did not equal rows loaded plus rows quarantined for a file."""


class WarehouseBusy(Exception):
    """Another run or process has the warehouse (one writer at a time)."""


class WarehouseOutdated(Exception):
    """The warehouse was written with another schema version."""


class StageFailed(Exception):
    """A pipeline stage failed; the message names the stage and the error type only."""


class TransientFailure(StageFailed):
    """A stage failed on I/O (a file or the warehouse busy or unreadable): worth a retry."""


SAFE = (UnusableInput, ReconciliationError, StageFailed, WarehouseBusy, WarehouseOutdated)


@contextmanager
def no_row_values(stage: str):
    """Re-raise unexpected errors without their message: DuckDB, polars and pandera messages
    can quote row values, and exceptions reach logs and Prefect. LIVER_AUDIT_DEBUG=1 keeps
    the original (for synthetic data only)."""
    import duckdb

    try:
        yield
    except SAFE:
        raise
    except Exception as error:
        if os.environ.get("LIVER_AUDIT_DEBUG") == "1":
            raise
        kind = TransientFailure if isinstance(error, (OSError, duckdb.IOException)) else StageFailed
        raise kind(f"{stage}: {type(error).__name__}") from None


def failure_reason(error: BaseException) -> str:
    """What a run record says about a failure: our messages name files, rows, fields and
    stages; anything else only by its type (its message may quote data)."""
    if isinstance(error, SAFE):
        return str(error)
    if isinstance(error, KeyboardInterrupt):
        return "interrupted"
    return type(error).__name__
