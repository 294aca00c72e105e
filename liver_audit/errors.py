"""Errors the CLI turns into one-line messages. Messages name files, rows and fields only."""

import re
from contextlib import contextmanager

# What would split a one-line message or drive the terminal: control characters (C0, DEL,
# C1) and the Unicode line and paragraph separators (str.splitlines breaks on them)...
UNPRINTABLE_TEXT = [chr(code) for code in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]]
# ...and in a file name, lone surrogates too (its undecodable bytes, which stdout cannot
# encode; text read from the warehouse holds none).
_UNPRINTABLE = re.compile(f"[{re.escape(''.join(UNPRINTABLE_TEXT))}\ud800-\udfff]")


def one_line(text: str) -> str:
    """`text` with control characters escaped as Python writes them (a newline in a file
    name shows as \\n): a message naming a file stays one line, whatever the name."""
    return _UNPRINTABLE.sub(
        lambda found: found.group().encode("unicode_escape", "backslashreplace").decode(), text
    )


class OneLine(Exception):
    """An error whose message is one line: it names files, and a file name may hold any
    character but / and NUL."""

    def __init__(self, message: str = "", *args):
        super().__init__(one_line(str(message)), *args)


class UnusableInput(OneLine):
    """An input file or argument the pipeline cannot use (CLI exit code 2)."""


class RefusedFiles(UnusableInput):
    """Some inbox files were refused; the rest of the run went ahead (CLI exit code 2)."""

    def __init__(self, message: str, summary: dict | None = None):
        super().__init__(message)
        self.summary = summary  # what the run did with the other files

    def __str__(self) -> str:
        return self.args[0]


class ReconciliationError(OneLine):
    """Rows read did not equal rows loaded plus rows quarantined for a file."""


class WarehouseBusy(OneLine):
    """Another run or process has the warehouse (one writer at a time)."""


class WarehouseOutdated(OneLine):
    """The warehouse was written with another schema version."""


class StageFailed(OneLine):
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
        from liver_audit.config import from_environment  # (config raises these errors)

        if from_environment("LIVER_AUDIT_DEBUG")[0] == "1":
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
