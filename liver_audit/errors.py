"""Errors the CLI turns into one-line messages. Messages name files, rows and fields only."""

import os
from contextlib import contextmanager


class UnusableInput(Exception):
    """An input file or argument the pipeline cannot use (CLI exit code 2)."""


class ReconciliationError(Exception):
    """Rows read did not equal rows loaded plus rows quarantined for a file."""


class WarehouseBusy(Exception):
    """Another process has the warehouse open for writing (DuckDB allows one writer)."""


class WarehouseOutdated(Exception):
    """The warehouse was written with another schema version."""


class StageFailed(Exception):
    """A pipeline stage failed; the message names the stage and the error type only."""


@contextmanager
def no_row_values(stage: str):
    """Re-raise unexpected errors without their message: DuckDB, polars and pandera messages
    can quote row values, and exceptions reach logs and Prefect. LIVER_AUDIT_DEBUG=1 keeps
    the original (for synthetic data only)."""
    try:
        yield
    except (UnusableInput, ReconciliationError, StageFailed, WarehouseOutdated):
        raise
    except Exception as error:
        if os.environ.get("LIVER_AUDIT_DEBUG") == "1":
            raise
        raise StageFailed(f"{stage}: {type(error).__name__}") from None
