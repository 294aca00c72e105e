"""The audit files a run writes, and what each holds.

| file | holds | sensitivity |
|---|---|---|
| assessments.csv | one row per finding: per rule and assessed procedure (or episode) | episode-level: keep inside the trust |
| quarantine.csv | one row per input row not loaded, with its reasons | episode-level: keep inside the trust |
| summary.json | counts, file hashes, catalogue version | counts only |
| worklist.xlsx | the rules, a sheet per rule of its open findings (the standing position's, needing action, not yet reviewed), the compliant sample, and the run's quarantine | episode-level |
| summary_shareable.csv | the standing position by rule, provider (and all) and financial year or quarter, HES disclosure control applied | shareable |
| report.html | where the trust stands: per rule, headline, outcomes, providers, quarters, the open findings, how often auditors found it right; what changed in the run; the catalogue | episode-level |

The standing position is every episode the warehouse holds, as last assessed (narrowed by the
settings since, provider and financial_year): sql/reports/position.sql. reports/index.html
(counts only) lists every run's report.
"""

import json
import os
import shutil
from pathlib import Path

import duckdb
import polars as pl

from liver_audit import __version__
from liver_audit.catalogue import Catalogue, load_catalogue
from liver_audit.config import Settings, private_mode
from liver_audit.disclosure import shareable_summary
from liver_audit.errors import UnusableInput
from liver_audit.report import (
    read_position,
    render_index,
    render_report,
    scope,
    select_position,
)
from liver_audit.warehouse import clear_left_by_ended_processes, database_file, sql
from liver_audit.worklist import FORMULA_START, write_worklist


def write_csv(frame: pl.DataFrame, path: Path) -> None:
    """A CSV a spreadsheet opens safely: text that a spreadsheet would read as a formula
    (=, +, -, @, tab, CR first) gets a leading apostrophe, as OWASP advises for CSV injection
    (`=HYPERLINK(...)` as an episode id, say); the workbook keeps such text as it is."""
    frame.with_columns(
        pl.when(pl.col(name).str.slice(0, 1).is_in(FORMULA_START))
        .then("'" + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    ).write_csv(path)


def run_assessments(con: duckdb.DuckDBPyConnection, run_id: str) -> pl.DataFrame:
    return con.sql(sql("audit_files/assessments"), params={"run_id": run_id}).pl()


def run_quarantine(con: duckdb.DuckDBPyConnection, run_id: str) -> pl.DataFrame:
    """One row per quarantined input row of the run, reasons and fields in matching order."""
    return con.sql(sql("audit_files/quarantine"), params={"run_id": run_id}).pl()


def run_catalogue(con: duckdb.DuckDBPyConnection) -> Catalogue:
    """The catalogue the warehouse's rules came from (load_reference_tables)."""
    (folder,) = con.execute("select rules_folder from assessment_settings").fetchall()[0]
    return load_catalogue(folder)


def rule_summaries(con: duckdb.DuckDBPyConnection, run_id: str, catalogue: Catalogue) -> list[dict]:
    """Per rule, in catalogue order: its findings in the run, how many compliant (severity
    pass) and needing action, and the count of each of its outcomes (every one, 0 too)."""
    counts = {
        (rule_id, outcome): n
        for rule_id, outcome, n in con.execute(
            sql("summary/findings_by_outcome"), {"run_id": run_id}
        ).fetchall()
    }
    summaries = []
    for rule in catalogue.rules:
        outcomes = [
            {"outcome": o.outcome, "severity": o.severity, "needs_action": o.needs_action,
             "findings": counts.get((rule.id, o.outcome), 0)}
            for o in rule.outcomes
        ]  # fmt: skip
        findings = sum(o["findings"] for o in outcomes)
        compliant = sum(o["findings"] for o in outcomes if o["severity"] == "pass")
        summaries.append(
            {
                "rule_id": rule.id,
                "title": rule.title,
                "findings": findings,
                "compliant": compliant,
                "percent_compliant": round(100 * compliant / findings, 1) if findings else None,
                "needing_action": sum(o["findings"] for o in outcomes if o["needs_action"]),
                "outcomes": outcomes,
            }
        )
    return summaries


def build_summary(
    con: duckdb.DuckDBPyConnection, run_id: str, returned: list[dict] | None = None
) -> dict:
    """The run's counts: nothing episode-level, so safe for logs and Prefect artifacts;
    `returned`, the worklists the run read (review.read_returned_worklists)."""
    catalogue = run_catalogue(con)
    run = {"run_id": run_id}
    files = con.sql(sql("summary/files"), params=run).pl()
    rules = rule_summaries(con, run_id, catalogue)
    (procedures,) = con.execute(sql("summary/procedures_assessed"), run).fetchall()[0]
    reasons = dict(con.execute(sql("summary/quarantine_reasons"), run).fetchall())
    theatre = con.sql(sql("summary/theatre"), params=run).pl().to_dicts()[0]
    ledger = con.execute(sql("summary/files_skipped_or_refused"), run).fetchall()
    (verdicts_since,) = con.execute(sql("summary/verdicts_since_last_report"), run).fetchall()[0]
    (quarantined_before,) = con.execute(sql("summary/rows_quarantined_before"), run).fetchall()[0]
    code_checks = con.sql(sql("summary/code_checks"), params=run).pl().to_dicts()
    return {
        "run_id": run_id,
        "liver_audit_version": __version__,
        "catalogue_version": catalogue.version,
        "rows_read": int(files["rows_read"].sum()),
        "rows_loaded": int(files["rows_loaded"].sum()),
        "rows_quarantined": int(files["rows_quarantined"].sum()),
        "rows_unchanged": int(files["rows_unchanged"].sum()),
        "files": files.to_dicts(),
        "files_skipped": [{"file_name": n, "reason": r} for a, n, r in ledger if a == "skipped"],
        "files_refused": [{"file_name": n, "reason": r} for a, n, r in ledger if a == "refused"],
        "quarantine_reasons": reasons,
        "rows_quarantined_before": quarantined_before,
        "procedures_assessed": procedures,
        "code_checks": code_checks[0] if code_checks else None,
        "findings": sum(rule["findings"] for rule in rules),
        "rules": rules,
        "theatre": theatre,
        "worklists_returned": [
            {
                "file_name": r["file_name"],
                "verdicts": r["verdicts"],
                "refused": r["refused"],
                "rows_refused": len(r["rows_refused"]),
            }
            for r in returned or []
        ],
        "verdicts_since_last_report": verdicts_since,
    }


# A folder of audit files being written, beside its final place, by process id.
WRITING = r"\..+\.writing-(\d+)"


def write_outputs(
    con: duckdb.DuckDBPyConnection, settings: Settings, summary: dict, out_dir: Path
) -> int:
    """Write the run's audit files into out_dir, whole or not at all (whole_or_nothing); a
    run killed meanwhile is reported by the next (take_over_unreported_runs). Returns the
    assessments written."""
    return whole_or_nothing(out_dir, lambda folder: _write_files(con, settings, summary, folder))


def whole_or_nothing(out_dir: Path, write):
    """Call write(folder) on a folder beside out_dir, moved into place once complete, and
    return what it returns. A process killed meanwhile leaves that folder (episode-level
    rows), which the next write there deletes."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    clear_left_by_ended_processes(out_dir.parent, WRITING)
    writing = out_dir.with_name(f".{out_dir.name}.writing-{os.getpid()}")
    shutil.rmtree(writing, ignore_errors=True)  # a failed try of this process's
    writing.mkdir()
    written = write(writing)
    if out_dir.exists():  # --out an existing folder: its other files stay
        for path in writing.iterdir():
            os.replace(path, out_dir / path.name)
        writing.rmdir()
    else:
        writing.rename(out_dir)
    return written


def write_position(con: duckdb.DuckDBPyConnection, settings: Settings, out_dir: Path) -> str:
    """`liver-audit report`: the position's files (report, worklist, shareable summary) as
    of the latest run that wrote audit files, on a read-only session. Returns that run."""
    rows = con.sql(sql("reports/latest_reported_run")).fetchall()
    if not rows:
        raise UnusableInput(f"{database_file(con)}: no run has written a report yet")
    run_id, summary = rows[0]
    con.execute(sql("macros"))  # temporary: a read-only session has none yet
    quarantine = run_quarantine(con, run_id)
    whole_or_nothing(
        out_dir, lambda folder: _position_files(con, settings, json.loads(summary), quarantine,
                                                folder)
    )  # fmt: skip
    return run_id


def _write_files(
    con: duckdb.DuckDBPyConnection, settings: Settings, summary: dict, out_dir: Path
) -> int:
    run_id = summary["run_id"]
    assessments = run_assessments(con, run_id)
    write_csv(assessments, out_dir / "assessments.csv")
    quarantine = run_quarantine(con, run_id)
    write_csv(quarantine, out_dir / "quarantine.csv")
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    _position_files(con, settings, summary, quarantine, out_dir)
    return assessments.height


def _position_files(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    summary: dict,
    quarantine: pl.DataFrame,
    out_dir: Path,
) -> None:
    """The files of the position: summary_shareable.csv, worklist.xlsx, report.html."""
    run_id = summary["run_id"]
    catalogue = run_catalogue(con)
    select_position(con, settings)  # what the worklist, report and shareable summary cover
    shareable = shareable_summary(
        con.sql(sql("audit_files/shareable_counts")).pl(), summary["catalogue_version"]
    )
    write_csv(shareable, out_dir / "summary_shareable.csv")
    narrowed = any(scope(settings).values())
    write_worklist(con, None if narrowed else quarantine, catalogue, out_dir / "worklist.xlsx")
    position = read_position(con, settings, run_id, recent_runs(con, limit=12))
    index = index_link(settings, out_dir)  # out_dir: beside its final place, as it is
    report = render_report(summary, position, catalogue, settings, shareable, index)
    (out_dir / "report.html").write_text(report)


def in_reports(settings: Settings, out_dir: Path) -> bool:
    """Whether a run's folder is in the reports folder (the default; not with --out
    elsewhere): then reports/index.html lists it, and its report links back."""
    return out_dir.resolve().parent == settings.reports.resolve()


def index_link(settings: Settings, out_dir: Path) -> str | None:
    """The link from a run's report to reports/index.html, if the index lists it."""
    return "../index.html" if in_reports(settings, out_dir) else None


def write_index(con: duckdb.DuckDBPyConnection, reports: Path) -> None:
    """reports/index.html: every run and its report (counts only), replaced whole."""
    reports.mkdir(parents=True, exist_ok=True)
    page = render_index(con.sql(sql("reports/runs_index")).pl(), reports)
    partial = reports / f".index.html.{os.getpid()}"
    partial.write_text(page)
    partial.chmod(private_mode())
    os.replace(partial, reports / "index.html")


def recent_runs(con: duckdb.DuckDBPyConnection, limit: int) -> pl.DataFrame:
    """The latest runs from run_history, newest first (counts only)."""
    return con.sql(sql("reports/recent_runs"), params={"limit": limit}).pl()
