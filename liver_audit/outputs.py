"""The audit files a run writes, and what each holds.

| file | holds | sensitivity |
|---|---|---|
| assessments.csv | one row per assessed J02.3/J02.4 procedure | episode-level: keep inside the trust |
| quarantine.csv | one row per input row not loaded, with its reasons | episode-level: keep inside the trust |
| summary.json | counts, file hashes, catalogue version | counts only |
| worklist.xlsx | a sheet per outcome needing action, and the quarantine, for auditors | episode-level |
| summary_shareable.csv | counts by provider and month, HES disclosure control applied | shareable |
| report.html | counts by outcome and provider; the non-compliant episodes | episode-level |
"""

import json
from pathlib import Path

import duckdb
import polars as pl

from liver_audit import __version__
from liver_audit.catalogue import load_catalogue
from liver_audit.disclosure import shareable_summary
from liver_audit.report import RunHistory, render_report
from liver_audit.warehouse import sql
from liver_audit.worklist import write_worklist

ASSESSMENT_COLUMNS = [
    "episode_id", "position", "procedure_code", "approach_code", "documented_approach",
    "outcome", "expected_approach_code", "qualifier_codes", "documentation_status", "severity",
    "provider_code", "admission_date", "episode_start_date", "episode_end_date",
    "procedure_date", "rule_id",
]  # fmt: skip


def run_assessments(con: duckdb.DuckDBPyConnection, run_id: str) -> pl.DataFrame:
    return con.sql(
        f"select {', '.join(ASSESSMENT_COLUMNS)} from assessments where run_id = ? "
        "order by episode_id, position, rule_id",
        params=[run_id],
    ).pl()


def run_quarantine(con: duckdb.DuckDBPyConnection, run_id: str) -> pl.DataFrame:
    """One row per quarantined input row of the run, reasons and fields in matching order."""
    return con.sql(
        """
        select
            quarantine.source_file,
            quarantine.source_row,
            any_value(quarantine.episode_id) as episode_id,
            string_agg(quarantine.reason, '; ' order by quarantine.reason, quarantine.field) as reason,
            string_agg(coalesce(quarantine.field, ''), '; ' order by quarantine.reason, quarantine.field) as field,
            string_agg(coalesce(quarantine.value, ''), '; ' order by quarantine.reason, quarantine.field) as value,
        from quarantine
        inner join input_files using (file_id)
        where input_files.run_id = ?
        group by quarantine.file_id, quarantine.source_file, quarantine.source_row
        order by quarantine.file_id, quarantine.source_row
        """,
        params=[run_id],
    ).pl()


def build_summary(con: duckdb.DuckDBPyConnection, run_id: str) -> dict:
    """The run's counts: nothing episode-level, so safe for logs and Prefect artifacts."""
    catalogue = load_catalogue()
    files = con.sql(
        """
        select file_name, file_kind, file_format, sha256, rows_read, rows_loaded, rows_quarantined,
            rows_unchanged
        from input_files where run_id = ? order by file_id
        """,
        params=[run_id],
    ).pl()
    outcomes = dict.fromkeys((o["outcome"] for o in catalogue.outcomes), 0)
    outcomes |= dict(
        con.execute(
            "select outcome, count(*) from assessments where run_id = ? group by outcome",
            [run_id],
        ).fetchall()
    )
    reasons = dict(
        con.execute(
            """
            select reason, count(distinct (quarantine.file_id, source_row))
            from quarantine inner join input_files using (file_id)
            where input_files.run_id = ? group by reason order by reason
            """,
            [run_id],
        ).fetchall()
    )
    theatre = (
        con.sql(
            """
        with run_theatre as (
            select theatre_records.*
            from theatre_records inner join input_files using (file_id)
            where input_files.run_id = ?
        )
        select
            count(*) as records_loaded,
            count(*) filter (where approach is null) as records_with_unknown_approach,
            (select count(*) from documented_approaches
             where documentation_status = 'conflicting'
             and episode_id in (select episode_id from run_theatre)) as episodes_with_conflicting_records,
            count(distinct episode_id) filter (
                where episode_id not in (select episode_id from episodes)
            ) as episodes_not_in_warehouse,
        from run_theatre
        """,
            params=[run_id],
        )
        .pl()
        .to_dicts()[0]
    )
    assessed = sum(outcomes.values())
    ledger = con.sql(
        "select action, file_name, reason from ledger "
        "where run_id = ? and action in ('skipped', 'refused') order by seen_at, file_name",
        params=[run_id],
    ).fetchall()
    return {
        "run_id": run_id,
        "liver_audit_version": __version__,
        "catalogue_version": catalogue.version,
        "rules": [rule["id"] for rule in catalogue.rules],
        "rows_read": int(files["rows_read"].sum()),
        "rows_loaded": int(files["rows_loaded"].sum()),
        "rows_quarantined": int(files["rows_quarantined"].sum()),
        "rows_unchanged": int(files["rows_unchanged"].sum()),
        "files": files.to_dicts(),
        "files_skipped": [{"file_name": n, "reason": r} for a, n, r in ledger if a == "skipped"],
        "files_refused": [{"file_name": n, "reason": r} for a, n, r in ledger if a == "refused"],
        "quarantine_reasons": reasons,
        "procedures_assessed": assessed,
        "percent_compliant": round(100 * outcomes["compliant"] / assessed, 1) if assessed else None,
        "outcomes": outcomes,
        "theatre": theatre,
    }


def write_outputs(con: duckdb.DuckDBPyConnection, summary: dict, out_dir: Path) -> int:
    """Write the run's audit files into out_dir; returns the assessments written."""
    run_id = summary["run_id"]
    out_dir.mkdir(parents=True, exist_ok=True)
    assessments = run_assessments(con, run_id)
    assessments.write_csv(out_dir / "assessments.csv")
    quarantine = run_quarantine(con, run_id)
    quarantine.write_csv(out_dir / "quarantine.csv")
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    catalogue = load_catalogue()
    shareable = shareable_summary(assessments, catalogue.needs_action)
    shareable.write_csv(out_dir / "summary_shareable.csv")
    write_worklist(con, assessments, quarantine, catalogue.needs_action, out_dir / "worklist.xlsx")
    history = RunHistory(
        trend=con.sql(
            sql("reports/compliance_by_month_of_run"), params={"run_id": run_id}
        ).fetchall(),
        by_episode_month=con.sql(sql("reports/compliance_by_month_of_episode_end")).fetchall(),
        recent_runs=recent_runs(con, limit=12),
    )
    report = render_report(summary, assessments, catalogue, shareable, history)
    (out_dir / "report.html").write_text(report)
    return assessments.height


def recent_runs(con: duckdb.DuckDBPyConnection, limit: int) -> pl.DataFrame:
    """The latest runs from run_history, newest first (counts only)."""
    return con.sql(sql("reports/recent_runs"), params={"limit": limit}).pl()
