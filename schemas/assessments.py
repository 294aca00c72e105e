"""Contract for the findings out: one assessment per J02.3/J02.4 procedure."""

import pandera.polars as pa
import polars as pl

OUTCOMES = [
    "compliant",
    "wrong_approach_code",
    "misplaced_approach_code",
    "missing_approach_code",
    "non_standard_approach_code",
    "open_procedure",
]
APPROACHES = ["open", "laparoscopic", "hand_assisted", "robotic", "converted_to_open"]


class Assessment(pa.DataFrameModel):
    rule_id: pl.String = pa.Field(description="catalogue id of the rule")
    episode_id: pl.String = pa.Field(description="EPIKEY")
    position: pl.Int32 = pa.Field(ge=1, le=99, description="position of the assessed code")
    procedure_code: pl.String = pa.Field(isin=["J023", "J024"], description="assessed code")
    qualifier_codes: pl.String = pa.Field(nullable=True, description="the Y/Z codes right after")
    approach_code: pl.String = pa.Field(nullable=True, description="approach codes in that run")
    documented_approach: pl.String = pa.Field(nullable=True, isin=APPROACHES)
    documentation_status: pl.String = pa.Field(
        isin=["documented", "none", "unknown_approach", "conflicting"]
    )
    expected_approach_code: pl.String = pa.Field(nullable=True)
    outcome: pl.String = pa.Field(isin=OUTCOMES)
    severity: pl.String = pa.Field(isin=["pass", "info", "warning", "error"])
    provider_code: pl.String = pa.Field(nullable=True)
    admission_date: pl.Date = pa.Field(nullable=True)
    episode_start_date: pl.Date = pa.Field(nullable=True)
    episode_end_date: pl.Date = pa.Field(nullable=True)
    procedure_date: pl.Date = pa.Field(nullable=True)

    class Config:
        strict = True
