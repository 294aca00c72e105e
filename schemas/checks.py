"""Check expressions and columns shared by the contracts."""

import pandera.polars as pa
import polars as pl

HES_DATE_SENTINELS = ["1800-01-01", "1801-01-01", "1800-01-01 00:00:00", "1801-01-01 00:00:00"]


def is_real_date(date: str, date_text: str) -> pl.Expr:
    """Text given for a date parsed to one, or was a HES null/invalid sentinel."""
    return (
        pl.col(date).is_not_null()
        | pl.col(date_text).is_null()
        | pl.col(date_text).is_in(HES_DATE_SENTINELS)
    )


def not_before(later: str, earlier: str) -> pl.Expr:
    """Two dates in order, where both are known."""
    return pl.col(later).is_null() | pl.col(earlier).is_null() | (pl.col(later) >= pl.col(earlier))


class CodeRows(pa.DataFrameModel):
    """What a staged procedure and a staged diagnosis share: the source row, and a long
    layout's episode id and position as delivered. A wide extract's positions are its
    columns, each once; a long layout's come from a column (arr_index, p_order) and may be
    anything, or repeat."""

    source_row: pl.Int64 = pa.Field(description="1-based data row in the source file")
    episode_id: pl.String = pa.Field(nullable=True, description="a long layout's row's own")
    position_text: pl.String = pa.Field(nullable=True, description="a long layout's, as delivered")
    position: pl.Int32 = pa.Field(
        nullable=True, description="nn of OPERTN_4_nn, DIAG_4_nn; p_order"
    )
    position_copies: pl.Int64 = pa.Field(description="a long layout's rows at this position")

    @pa.check("position_text", name="position_invalid")
    def _position_held(cls, data: pa.PolarsData) -> pl.LazyFrame:
        # a position HES could hold (1-99: OPERTN_4_nn, DIAG_4_nn)
        return data.lazyframe.select(pl.col("position").is_between(1, 99).fill_null(False))

    @pa.check("position_text", name="position_repeated")
    def _position_once(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("position_copies") == 1)
