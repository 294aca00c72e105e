"""Contract for the findings out: every rule's findings share this shape (sql/findings.sql).

Which outcomes a rule may give is the rule's own (rules/<id>/rule.toml); assess.py checks
each finding's outcome against its rule's list.
"""

import pandera.polars as pa
import polars as pl

from liver_audit.catalogue import SEVERITIES


class Finding(pa.DataFrameModel):
    rule_id: pl.String = pa.Field(description="the rule's folder name")
    catalogue_version: pl.String = pa.Field(description="the catalogue that judged it")
    episode_id: pl.String = pa.Field(description="EPIKEY")
    position: pl.Int32 = pa.Field(ge=1, le=99, description="position of the assessed code")
    # an OPCS-4 code (J023), or for a rule that assesses diagnoses an ICD-10 code as HES's
    # 4-character fields hold it (C20X)
    procedure_code: pl.String = pa.Field(
        str_matches=r"^[A-Z][0-9]{2}[0-9X]?$", description="the assessed code, as in HES"
    )
    outcome: pl.String = pa.Field(description="one of the rule's outcomes")
    severity: pl.String = pa.Field(isin=SEVERITIES)
    needs_action: pl.Boolean = pa.Field(description="a coder must act on it")
    expected_codes: pl.String = pa.Field(nullable=True, description="space separated")
    found_codes: pl.String = pa.Field(nullable=True, description="space separated")
    standard: pl.String = pa.Field(description="the standard(s) the finding follows")
    opcs_version: pl.String = pa.Field(nullable=True, description="in force on its date")
    message: pl.String = pa.Field(str_length={"min_value": 1}, description="one line")
    provider_code: pl.String = pa.Field(nullable=True)
    admission_date: pl.Date = pa.Field(nullable=True)
    episode_start_date: pl.Date = pa.Field(nullable=True)
    episode_end_date: pl.Date = pa.Field(nullable=True)
    procedure_date: pl.Date = pa.Field(nullable=True)

    class Config:
        strict = True
        # One finding per (rule, assessed procedure or episode): issue 13's shape.
        unique = ["rule_id", "episode_id", "position"]
