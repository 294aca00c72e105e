"""Check expressions shared by the contracts."""

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


def position_held(position: str = "position") -> pl.Expr:
    """A position HES could hold (1-99: OPERTN_4_nn, DIAG_4_nn). A wide extract's positions
    are its columns; a long layout's come from a column (arr_index, p_order) and may be
    anything."""
    return pl.col(position).is_between(1, 99).fill_null(False)
