"""A rule case as warehouse rows: one episode, its codes by position, its theatre records,
inserted straight into an in-memory warehouse (no files, no loader), then assessed."""

import re
from datetime import date, timedelta

from liver_audit.assess import assess

DEFAULT_DAY = "2025-05-02"


def insert_case(con, case: dict, episode_id: str = "1", file_id: int = 1) -> None:
    """The case's episode as the loader would leave it: provider RXA, admitted and started
    on the case's date, ending 3 days later; each code at its position (`_` leaves the
    position empty), done on that date; each diagnosis at its position, as HES holds it
    (C20 -> C20X); each theatre text (`;` between records) matched
    through the synonym table as staging does."""
    day = date.fromisoformat(case["date"] if case["date"] not in ("", ".") else DEFAULT_DAY)
    con.execute(
        "insert into input_files (file_id, run_id, file_kind, file_name) "
        "values (?, 'test-run', 'episode_extract', 'case') on conflict do nothing",
        [file_id],
    )
    con.execute(
        "insert into episodes (episode_id, file_id, provider_code, admission_date, "
        "episode_start_date, episode_end_date) values (?, ?, 'RXA', ?, ?, ?)",
        [episode_id, file_id, day, day, day + timedelta(days=3)],
    )
    for position, code in enumerate(case["codes"].split(), start=1):
        if code != "_":
            con.execute(
                "insert into procedures values (?, ?, ?, ?, ?)",
                [episode_id, position, code.replace(".", ""), day, file_id],
            )
    for position, code in enumerate(case.get("diagnoses", ".").split(), start=1):
        if code not in ("_", "."):
            code = code.replace(".", "").ljust(4, "X")  # C20 -> C20X; R69X6 keeps its 6
            con.execute(
                "insert into diagnoses (episode_id, position, diagnosis_code, diagnosis_detail, "
                "file_id) values (?, ?, ?, ?, ?)",
                [episode_id, position, code[:4], code[4:] or None, file_id],
            )
    if case["theatre"] not in ("", "."):
        for text in case["theatre"].split(";"):
            con.execute(
                "insert into theatre_records (episode_id, operation_date, approach_text, approach, "
                "file_id) select ?, ?, ?, (select approach from approach_synonyms "
                "where synonym = approach_key(?)), ?",
                [episode_id, day, text, text, file_id],
            )


def case_outcomes(con, case: dict, rule_id: str) -> list[str]:
    """The outcomes the rule gives the case's episode, in position order. Only this rule
    runs (the database is the test's own): eleven rules a case took 3.5 times as long."""
    insert_case(con, case)
    con.execute("delete from rule_catalogue where rule_id <> ?", [rule_id])
    assess(con, "test-run")
    rows = con.execute(
        "select outcome from assessments where rule_id = ? order by position", [rule_id]
    ).fetchall()
    return [outcome for (outcome,) in rows]


def expected_outcomes(case: dict) -> list[str]:
    return [] if case["outcomes"] in ("", ".") else case["outcomes"].split()


def standard_ids(text: str) -> set[str]:
    """The standards a case or finding names: 'PCSY6, PCSY7 (image control)' -> both ids
    (words in brackets are notes)."""
    return {part.strip() for part in re.sub(r"\([^)]*\)", "", text).split(",") if part.strip()}
