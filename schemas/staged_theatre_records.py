"""Contract for sql/stg_theatre_records.sql: one cleaned row per theatre record."""

import pandera.polars as pa
import polars as pl

from schemas.checks import is_real_date


class StagedTheatreRecord(pa.DataFrameModel):
    source_row: pl.Int64 = pa.Field(description="1-based data row in the source file")
    episode_id: pl.String = pa.Field(nullable=True, description="EPIKEY of the episode")
    operation_date_text: pl.String = pa.Field(nullable=True, description="OPDATE as delivered")
    operation_date: pl.Date = pa.Field(nullable=True, description="OPDATE; sentinels null")
    approach_text: pl.String = pa.Field(nullable=True, description="APPROACH free text")
    approach: pl.String = pa.Field(nullable=True, description="approach from the synonym table")

    @pa.check("episode_id", name="episode_id_missing")
    def _episode_id_present(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("episode_id").is_not_null())

    @pa.check("operation_date_text", name="date_invalid")
    def _date_real(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(is_real_date("operation_date", "operation_date_text"))

    class Config:
        strict = True
