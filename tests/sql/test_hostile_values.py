"""Hostile values in delivered files: column names that collide, dates no episode can have,
damaged Parquet, procedure positions past 24. Each is quarantined or refused, never loaded
wrongly or ignored in silence."""

import re

import polars as pl
import pyarrow
import pyarrow.parquet
import pytest

from liver_audit.errors import UnusableInput
from tests.tables import load

EPISODE = {
    "EPIKEY": ["000000000001"], "PROCODE3": ["RXA"], "ADMIDATE": ["2025-05-01"],
    "EPISTART": ["2025-05-01"], "EPIEND": ["2025-05-04"], "SEX": ["1"], "STARTAGE": ["50"],
    "OPERTN_4_01": ["J023"],
}  # fmt: skip


# --- column names: one rule for text and Parquet -------------------------------------------


@pytest.mark.parametrize("file_format", ["text", "parquet"])
@pytest.mark.parametrize(
    "extra, message",
    [
        ("epikey", "column epikey appears twice"),
        (" EPIKEY", "column EPIKEY appears twice"),
        ("opertn_4_01", "column opertn_4_01 appears twice"),
    ],
)
def test_a_column_name_given_twice_in_any_case_is_refused(
    fresh_db, tmp_path, file_format, extra, message
):
    frame = pl.DataFrame(EPISODE).with_columns(pl.lit("x").alias(extra))
    if file_format == "parquet":
        path = tmp_path / "extract.parquet"
        frame.write_parquet(path)
    else:
        path = tmp_path / "extract.txt"
        frame.write_csv(path, separator="|")
    with pytest.raises(UnusableInput, match=re.escape(f"row 0 (header): {message}")):
        load(fresh_db, path)
    assert fresh_db.sql("select count(*) from episodes").fetchall() == [(0,)]


def test_a_parquet_column_without_a_name_is_refused_as_in_a_text_header(fresh_db, tmp_path):
    columns = {**EPISODE, "": ["x"], "DIAG_4_01": ["K760"]}
    table = pyarrow.table(list(columns.values()), names=list(columns))
    pyarrow.parquet.write_table(table, tmp_path / "extract.parquet")
    with pytest.raises(UnusableInput, match=re.escape("row 0 (header): column 9 has no name")):
        load(fresh_db, tmp_path / "extract.parquet")
