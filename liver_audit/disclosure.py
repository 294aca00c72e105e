"""NHS Digital's HES disclosure control for counts shared outside the team.

From 13 September 2018 (HES, ECDS): sub-national counts of 1 to 7 are shown as `*`, other
counts are rounded to the nearest 5, 0 is shown as 0, and percentages are computed from the
rounded figures ("Change to disclosure control methodology for HES and ECDS from September
2018", NHS Digital; see ../shared/docs/domain.md section 6.2).
"""

import polars as pl

SUPPRESSED = "*"


def controlled_count(count: pl.Expr) -> pl.Expr:
    """A count as it may be published: 0, `*` for 1-7, else rounded to the nearest 5."""
    rounded = ((count + 2) // 5) * 5  # nearest 5; integers never fall half way
    return (
        pl.when(count == 0)
        .then(pl.lit("0"))
        .when(count <= 7)
        .then(pl.lit(SUPPRESSED))
        .otherwise(rounded.cast(pl.String))
    )


def controlled_percentage(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
    """part / whole as a percentage (1 dp) of the rounded counts; `*` where either is suppressed."""
    rounded_part, rounded_whole = ((part + 2) // 5) * 5, ((whole + 2) // 5) * 5
    return (
        pl.when(whole == 0)
        .then(pl.lit(""))
        .when((whole <= 7) | ((part >= 1) & (part <= 7)))
        .then(pl.lit(SUPPRESSED))
        .otherwise((100 * rounded_part / rounded_whole).round(1).cast(pl.String))
    )


# Named in every row of summary_shareable.csv; said in full in the report and the README.
METHOD_NAME = "HES disclosure control (NHS Digital, September 2018)"
METHOD = (
    f"{METHOD_NAME}: counts of 1 to 7 shown as *, other counts rounded to the nearest 5, "
    "percentages from the rounded counts; so the rounded parts may not add up to the rounded "
    "whole"
)
COUNTS = ["assessed", "compliant", "needing_action", "other"]


def shareable_summary(counts: pl.DataFrame, catalogue_version: str) -> pl.DataFrame:
    """The standing position's counts (sql/audit_files/shareable_counts.sql: per rule,
    period and provider, all providers too), disclosure-controlled, each row saying which
    catalogue judged it and how it was controlled. No episode-level data. (Not the run's id:
    a run killed and run again writes this file as an uninterrupted run does; the folder
    and the report name the run.)"""
    return counts.select(
        "rule_id",
        "period_type",
        "period",
        pl.col("period_from").cast(pl.String),
        pl.col("period_to").cast(pl.String),
        "provider_code",
        *(controlled_count(pl.col(name)).alias(name) for name in COUNTS),
        controlled_percentage(pl.col("compliant"), pl.col("assessed")).alias("percent_compliant"),
        pl.lit(catalogue_version).alias("catalogue_version"),
        pl.lit(METHOD_NAME).alias("disclosure_control"),
    )
