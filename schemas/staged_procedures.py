"""Contract for sql/stg_procedures.sql: one row per filled procedure position."""

import pandera.polars as pa
import polars as pl

from schemas.checks import is_real_date, position_held

# OPCS-4: a chapter letter (no chapter I) and three digits, stored without the dot
# (OPCS-4.10 classification; ehrql's OPCS4Code uses the same shape); or a HES sentinel.
OPCS4_CODE_SHAPE = r"^([A-HJ-Z][0-9]{3}|-|&)$"


class StagedProcedure(pa.DataFrameModel):
    source_row: pl.Int64 = pa.Field(description="1-based data row in the source file")
    episode_id: pl.String = pa.Field(nullable=True, description="a long layout's row's own")
    position_text: pl.String = pa.Field(nullable=True, description="a long layout's, as delivered")
    position: pl.Int32 = pa.Field(nullable=True, description="nn of OPERTN_4_nn; p_order")
    position_copies: pl.Int64 = pa.Field(description="a long layout's rows at this position")
    procedure_code: pl.String = pa.Field(nullable=True, description="normalised OPCS-4 code")
    procedure_date_text: pl.String = pa.Field(nullable=True, description="OPDATE_nn as delivered")
    procedure_date: pl.Date = pa.Field(nullable=True, description="OPDATE_nn; sentinels null")

    @pa.check("position_text", name="position_invalid")
    def _position_held(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(position_held())

    @pa.check("position_text", name="position_repeated")
    def _position_once(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("position_copies") == 1)

    @pa.check("procedure_code", name="procedure_code_missing")
    def _code_present(cls, data: pa.PolarsData) -> pl.LazyFrame:
        # a long layout's row is one procedure (a wide extract's position with a date alone
        # is no procedure): a row without an OPCS-4 code (UK Biobank's OPCS-3-only) is kept
        # out, with its episode
        return data.lazyframe.select(
            pl.col("procedure_code").is_not_null() | pl.col("episode_id").is_null()
        )

    @pa.check("procedure_code", name="procedure_code_malformed")
    def _code_shape(cls, data: pa.PolarsData) -> pl.LazyFrame:
        code = pl.col("procedure_code")
        return data.lazyframe.select(code.is_null() | code.str.contains(OPCS4_CODE_SHAPE))

    @pa.check("procedure_date_text", name="date_invalid")
    def _date_real(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(is_real_date("procedure_date", "procedure_date_text"))

    class Config:
        strict = True
