"""HES disclosure control on the edge values (issue 3): 0, 1, 7, 8, 12, 13."""

import polars as pl
import pytest

from liver_audit.disclosure import controlled_count, controlled_percentage

COUNTS = [(0, "0"), (1, "*"), (7, "*"), (8, "10"), (12, "10"), (13, "15"), (22, "20"), (23, "25")]


@pytest.mark.parametrize("count, shown", COUNTS)
def test_controlled_count(count, shown):
    frame = pl.DataFrame({"n": [count]})
    assert frame.select(controlled_count(pl.col("n")))[0, 0] == shown


PERCENTAGES = [
    # part, whole, shown: percentages come from the rounded figures
    (0, 8, "0.0"),
    (8, 13, "66.7"),  # 10 / 15
    (12, 12, "100.0"),  # 10 / 10
    (7, 20, "*"),  # the part is suppressed
    (0, 7, "*"),  # the whole is suppressed
    (0, 0, ""),
]


@pytest.mark.parametrize("part, whole, shown", PERCENTAGES)
def test_controlled_percentage(part, whole, shown):
    frame = pl.DataFrame({"part": [part], "whole": [whole]})
    assert frame.select(controlled_percentage(pl.col("part"), pl.col("whole")))[0, 0] == shown
