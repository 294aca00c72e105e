"""Contract for sql/stg_diagnoses.sql: one row per filled diagnosis position. It checks the rows
of sql/stg_diagnoses_to_validate.sql: those whose text is not already a code of the ICD-10
list as HES writes it (well formed by construction)."""

import pandera.polars as pa
import polars as pl

from schemas.checks import CodeRows

# ICD-10 as HES's 4-character fields hold it: a letter, two digits and a 4th character (a
# digit, or X padding a 3-character code: C20X) (HES TOS, DIAG_4_nn); or a HES sentinel.
# From a full code (DIAG_nn, 6 characters at most) up to two more: a 5th character, or
# HES's 6th (R69X6, R69X8). Whether the code exists is the rule icd10_code_in_force's.
ICD10_CODE_SHAPE = r"^([A-Z][0-9]{2}[0-9X]|-|&)$"
ICD10_DETAIL_SHAPE = r"^[0-9A-Z]{1,2}$"


class StagedDiagnosis(CodeRows):
    diagnosis_code_text: pl.String = pa.Field(nullable=True, description="as delivered, trimmed")
    diagnosis_code: pl.String = pa.Field(nullable=True, description="4 characters, no dot (C787)")
    diagnosis_detail: pl.String = pa.Field(nullable=True, description="5th and 6th characters")
    mark: pl.String = pa.Field(nullable=True, description="dagger or asterisk, as marked")

    @pa.check("diagnosis_code_text", name="diagnosis_code_missing")
    def _code_present(cls, data: pa.PolarsData) -> pl.LazyFrame:
        # only a long layout's row can be empty (UK Biobank's ICD-9-only rows)
        return data.lazyframe.select(pl.col("diagnosis_code_text").is_not_null())

    @pa.check("diagnosis_code_text", name="diagnosis_code_malformed")
    def _code_shape(cls, data: pa.PolarsData) -> pl.LazyFrame:
        code, detail = pl.col("diagnosis_code"), pl.col("diagnosis_detail")
        return data.lazyframe.select(
            code.is_null()
            | code.str.contains(ICD10_CODE_SHAPE)
            & (
                detail.is_null()
                | (detail.str.contains(ICD10_DETAIL_SHAPE) & code.str.len_chars().eq(4))
            )
        )

    class Config:
        strict = True
