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


def shareable_summary(assessments: pl.DataFrame) -> pl.DataFrame:
    """Findings by rule, provider and month of episode end, disclosure-controlled: how many,
    how many compliant (an outcome of severity pass) and how many need a coder's action.

    No episode-level data: one row per (rule, provider, month) with controlled counts only.
    """
    counts = (
        assessments.with_columns(
            month=pl.col("episode_end_date").dt.strftime("%Y-%m").fill_null("unknown"),
            provider_code=pl.col("provider_code").fill_null("unknown"),
        )
        .group_by("rule_id", "provider_code", "month")
        .agg(
            findings=pl.len(),
            compliant=(pl.col("severity") == "pass").sum(),
            needing_action=pl.col("needs_action").sum(),
        )
        .sort("rule_id", "provider_code", "month")
    )
    return counts.select(
        "rule_id",
        "provider_code",
        "month",
        controlled_count(pl.col("findings")).alias("findings"),
        controlled_count(pl.col("compliant")).alias("compliant"),
        controlled_count(pl.col("needing_action")).alias("needing_action"),
        controlled_percentage(pl.col("compliant"), pl.col("findings")).alias("percent_compliant"),
    )
