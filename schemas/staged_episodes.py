"""Contract for sql/stg_episodes.sql: one cleaned row per data row of an episode extract."""

import pandera.polars as pa
import polars as pl

from schemas.checks import is_real_date, not_before

# HES SEX: 1 male, 2 female, 9 not specified, 0 not known (to 2022-23), X not known (from
# 2022-23) (HES TOS v1.15). STARTAGE: 0-120 years, 7001-7007 bands under one year.
SEX_CODES = ["0", "1", "2", "9", "X"]


class StagedEpisode(pa.DataFrameModel):
    # Checks sit on the columns as delivered (*_text), so a failure reports what was sent.
    source_row: pl.Int64 = pa.Field(description="1-based data row in the source file")
    episode_id: pl.String = pa.Field(nullable=True, description="EPIKEY, text (leading zeros kept)")
    episode_id_copies: pl.Int64 = pa.Field(description="rows in the file with this EPIKEY")
    provider_code: pl.String = pa.Field(nullable=True, description="PROCODE3, upper case")
    admission_date_text: pl.String = pa.Field(nullable=True, description="ADMIDATE as delivered")
    admission_date: pl.Date = pa.Field(nullable=True, description="ADMIDATE; HES sentinels null")
    episode_start_text: pl.String = pa.Field(nullable=True, description="EPISTART as delivered")
    episode_start_date: pl.Date = pa.Field(nullable=True, description="EPISTART; sentinels null")
    episode_end_text: pl.String = pa.Field(nullable=True, description="EPIEND as delivered")
    episode_end_date: pl.Date = pa.Field(nullable=True, description="EPIEND; sentinels null")
    sex: pl.String = pa.Field(nullable=True, description="SEX, float text made whole")
    start_age_text: pl.String = pa.Field(nullable=True, description="STARTAGE as delivered")
    start_age: pl.Int32 = pa.Field(nullable=True, description="STARTAGE as a whole number")
    primary_diagnosis_code: pl.String = pa.Field(nullable=True, description="DIAG_4_01")

    @pa.check("episode_id", name="episode_id_missing")
    def _episode_id_present(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("episode_id").is_not_null())

    @pa.check("episode_id_copies", name="episode_id_duplicated")
    def _episode_id_once(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("episode_id_copies") == 1)

    @pa.check("provider_code", name="provider_code_missing")
    def _provider_present(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("provider_code").is_not_null())

    @pa.check("admission_date_text", name="date_invalid")
    def _admission_date_real(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(is_real_date("admission_date", "admission_date_text"))

    @pa.check("episode_start_text", name="date_invalid")
    def _start_date_real(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(is_real_date("episode_start_date", "episode_start_text"))

    @pa.check("episode_end_text", name="date_invalid")
    def _end_date_real(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(is_real_date("episode_end_date", "episode_end_text"))

    @pa.check("episode_end_text", name="episode_end_before_start")
    def _ends_after_start(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(not_before("episode_end_date", "episode_start_date"))

    @pa.check("admission_date_text", name="admission_after_episode_start")
    def _admitted_before_start(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(not_before("episode_start_date", "admission_date"))

    @pa.check("sex", name="sex_invalid")
    def _sex_in_domain(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("sex").is_null() | pl.col("sex").is_in(SEX_CODES))

    @pa.check("start_age_text", name="start_age_invalid")
    def _start_age_in_domain(cls, data: pa.PolarsData) -> pl.LazyFrame:
        age = pl.col("start_age")
        return data.lazyframe.select(
            pl.col("start_age_text").is_null()
            | (age.is_between(0, 120) | age.is_between(7001, 7007)).fill_null(False)
        )

    version_hash: pl.UInt64 = pa.Field(description="hash of the delivered fields the rules read")

    class Config:
        strict = True
