"""pandera (polars) contracts for every table that crosses a boundary.

A failed check on a row quarantines that row; the check's name is the quarantine reason
(REASONS lists them all, with the one line shown to users). A long layout's rows kept out
by another file's (KEPT_OUT) are quarantined by sql/load/kept_out_with_episodes.sql.
"""

from schemas.assessments import Finding
from schemas.staged_diagnoses import StagedDiagnosis
from schemas.staged_episodes import StagedEpisode
from schemas.staged_procedures import StagedProcedure
from schemas.staged_theatre_records import StagedTheatreRecord

REASONS = {
    "line_malformed": "the line does not split into the header's columns",
    "episode_id_missing": "no episode id (EPIKEY)",
    "episode_id_duplicated": "the episode id appears more than once in the file (every copy quarantined)",
    "provider_code_missing": "no provider code (PROCODE3)",
    "date_invalid": "a date that is not a real YYYY-MM-DD date from 1900-01-01 to the end of next year (HES sentinels 1800-01-01/1801-01-01 excepted)",
    "episode_end_before_start": "the episode ends (EPIEND) before it starts (EPISTART)",
    "admission_after_episode_start": "the admission (ADMIDATE) is after the episode start (EPISTART)",
    "sex_invalid": "SEX outside the HES codes 0, 1, 2, 9, X",
    "start_age_invalid": "STARTAGE outside 0-120 and the under-one codes 7001-7007",
    "procedure_code_malformed": "a procedure code that is not letter + 3 digits (or - / &) after normalisation",
    "diagnosis_code_malformed": "a diagnosis code that is not letter + 2 digits + digit or X, with at most 2 more letters or digits (or - / &), after normalisation",
    "procedure_code_missing": "a long layout's procedure row with no OPCS-4 code (UK Biobank's OPCS-3-only rows)",
    "diagnosis_code_missing": "a long layout's diagnosis row with no ICD-10 code (UK Biobank's ICD-9-only rows)",
    "position_invalid": "a long layout's position that is not a whole number giving 1-99",
    "position_repeated": "a long layout's position given twice for one episode (every copy)",
    **(
        KEPT_OUT := {
            "procedure_row_quarantined": "a long layout's episode with a quarantined procedure row (named)",
            "diagnosis_row_quarantined": "a long layout's episode with a quarantined diagnosis row (named)",
            "episode_quarantined": "a long layout's code row whose episode is quarantined (its row named)",
            "episode_not_in_delivery": "a long layout's code row whose episode the episodes file lacks",
        }
    ),
}

__all__ = [
    "Finding",
    "StagedDiagnosis",
    "StagedEpisode",
    "StagedProcedure",
    "StagedTheatreRecord",
    "KEPT_OUT",
    "REASONS",
]
