"""Row-level validation: stream a staged table through its pandera contract in batches,
turning every failed check into a quarantine row (source_row, reason, field, value)."""

import duckdb
import pandera.polars as pa
import polars as pl
from pandera.config import ValidationDepth, config_context

BATCH_ROWS = 1_000_000
QUARANTINE_SCHEMA = {
    "source_row": pl.Int64,
    "position": pl.Int32,
    "reason": pl.String,
    "column": pl.String,
    "value": pl.String,
}


def failed_checks(
    con: duckdb.DuckDBPyConnection, table: str, contract: type[pa.DataFrameModel]
) -> pl.DataFrame:
    """One row per (source row, check, column) of `table` that fails `contract`.

    Validation is full depth (eager polars frames, lazy=True collects every failure) and
    batched, so memory stays bounded whatever the file's size.
    """
    failures = [pl.DataFrame(schema=QUARANTINE_SCHEMA)]
    reader = con.sql(f"select * from {table}").to_arrow_reader(BATCH_ROWS)
    try:
        for batch in reader:
            frame = pl.from_arrow(batch)
            failure_cases = None
            try:
                # Full depth whatever PANDERA_VALIDATION_DEPTH / PANDERA_VALIDATION_ENABLED say:
                # a switched-off check would load rows it should quarantine.
                with config_context(
                    validation_enabled=True, validation_depth=ValidationDepth.SCHEMA_AND_DATA
                ):
                    contract.validate(frame, lazy=True)
            except pa.errors.SchemaErrors as errors:
                # The error's text quotes row values: keep only its table of failures.
                failure_cases = errors.failure_cases
            if failure_cases is not None:
                failures.append(_quarantine_rows(frame, failure_cases))
    finally:
        reader.close()
    return pl.concat(failures)


def _quarantine_rows(frame: pl.DataFrame, failure_cases: pl.DataFrame) -> pl.DataFrame:
    schema_level = failure_cases.filter(pl.col("index").is_null())
    if schema_level.height:
        # A wrong column or type is a bug in sql/, not bad input: stop, naming checks only.
        checks = ", ".join(sorted(set(schema_level["check"].cast(pl.String))))
        raise TypeError(f"staged table breaks its contract at schema level: {checks}")
    rows = failure_cases["index"]
    positions = (
        frame["position"].gather(rows)
        if "position" in frame.columns
        else pl.Series(values=[None] * len(rows), dtype=pl.Int32)
    )
    return failure_cases.select(
        source_row=frame["source_row"].gather(rows),
        position=positions,
        reason=pl.col("check"),
        column=pl.col("column"),
        value=pl.col("failure_case"),
    )
