"""Contract for sql/stg_procedures.sql: one row per filled procedure position."""

import pandera.polars as pa
import polars as pl

from schemas.checks import is_real_date

# OPCS-4: a chapter letter (no chapter I) and three digits, stored without the dot
# (OPCS-4.10 classification; ehrql's OPCS4Code uses the same shape); or a HES sentinel.
OPCS4_CODE_SHAPE = r"^([A-HJ-Z][0-9]{3}|-|&)$"


class StagedProcedure(pa.DataFrameModel):
    source_row: pl.Int64 = pa.Field(description="1-based data row in the source file")
    position: pl.Int32 = pa.Field(ge=1, le=99, description="nn of OPERTN_4_nn / OPERTN_nn")
    procedure_code: pl.String = pa.Field(nullable=True, description="normalised OPCS-4 code")
    procedure_date_text: pl.String = pa.Field(nullable=True, description="OPDATE_nn as delivered")
    procedure_date: pl.Date = pa.Field(nullable=True, description="OPDATE_nn; sentinels null")

    @pa.check("procedure_code", name="procedure_code_malformed")
    def _code_shape(cls, data: pa.PolarsData) -> pl.LazyFrame:
        code = pl.col("procedure_code")
        return data.lazyframe.select(code.is_null() | code.str.contains(OPCS4_CODE_SHAPE))

    @pa.check("procedure_date_text", name="date_invalid")
    def _date_real(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(is_real_date("procedure_date", "procedure_date_text"))

    class Config:
        strict = True
