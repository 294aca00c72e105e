"""Contract for sql/stg_procedures.sql: one row per filled procedure position."""

import pandera.polars as pa
import polars as pl

from schemas.checks import CodeRows, is_real_date

# OPCS-4: a chapter letter (no chapter I) and three digits, stored without the dot
# (OPCS-4.10 classification; ehrql's OPCS4Code uses the same shape); or a HES sentinel.
OPCS4_CODE_SHAPE = r"^([A-HJ-Z][0-9]{3}|-|&)$"


class StagedProcedure(CodeRows):
    procedure_code: pl.String = pa.Field(nullable=True, description="normalised OPCS-4 code")
    procedure_date_text: pl.String = pa.Field(nullable=True, description="OPDATE_nn as delivered")
    procedure_date: pl.Date = pa.Field(nullable=True, description="OPDATE_nn; sentinels null")

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
