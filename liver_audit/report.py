"""report.html: where the trust stands, one self-contained page (no scripts, no network),
and reports/index.html, the list of every run's report.

The figures come from the standing position (sql/reports/position.sql: the latest
assessment of every episode held, narrowed by the settings since, provider and
financial_year), the run's own changes (sql/reports/changes_in_run.sql) and the verdicts
(rule_precision); templates/ lays them out, with Jinja2's autoescaping: every value from the
data is escaped, and only the charts (charts.py escapes their labels) go in as markup.
"""

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from liver_audit import ROOT
from liver_audit.catalogue import Catalogue
from liver_audit.charts import period_rate, stacked_bars
from liver_audit.config import Settings
from liver_audit.disclosure import COUNTS, METHOD
from liver_audit.warehouse import sql

TEMPLATES = Environment(
    loader=FileSystemLoader(ROOT / "templates"),
    autoescape=select_autoescape(["html", "j2"], default_for_string=True),
    undefined=StrictUndefined,  # a name the template misspells fails the tests, not the page
    trim_blocks=True,
    lstrip_blocks=True,
)


def words(name: str | None) -> str:
    """An outcome or column name as words: missing_approach_code -> missing approach code."""
    return "" if name is None else name.replace("_", " ")


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


TEMPLATES.filters["words"] = words


def compliance(rule: dict) -> str:
    """A rule's headline: '51.2%' of its findings compliant, or 'n/a'."""
    value = rule["percent_compliant"]
    return "n/a" if value is None else f"{value}%"


def code_checks_note(summary: dict) -> str | None:
    """What the code checks covered when they judged every episode (code_check_scope
    all_episodes), in words; None for the liver episodes only (the default)."""
    checks = summary.get("code_checks")
    if not checks or checks["code_check_scope"] != "all_episodes":
        return None
    return (
        f"code checks on every episode (code_check_scope all_episodes): "
        f"{checks['procedure_codes']:,} procedure and {checks['diagnosis_codes']:,} diagnosis "
        f"codes of {checks['episodes']:,} episodes; outside the {checks['liver_episodes']:,} "
        "with a liver procedure only findings that are not a pass are recorded"
    )


def scope_of(settings: Settings) -> str:
    """What the report covers, in words."""
    narrowed = [
        f"ending on or after {settings.since}" if settings.since else None,
        f"ending in financial year {settings.financial_year}" if settings.financial_year else None,
        f"of provider {settings.provider}" if settings.provider else None,
    ]
    narrowed = [part for part in narrowed if part]
    return "every episode the warehouse holds" + (
        ": only those " + ", ".join(narrowed) if narrowed else ""
    )


def scope(settings: Settings) -> dict:
    """The settings that narrow the report, as the queries' parameters (in_report_scope)."""
    return {name: getattr(settings, name) for name in ("since", "provider", "financial_year")}


def select_position(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """The temp table `position` on this cursor: the findings the report and the worklist
    cover (sql/reports/position.sql)."""
    con.execute(
        f"create or replace temp table position as {sql('reports/position')}",
        scope(settings)
        | {"compliant_sample": settings.compliant_sample, "sample_seed": settings.sample_seed},
    )


@dataclass
class Position:
    """The frames behind the report (counts, but for the open findings and the changes,
    which are episode-level): see sql/reports/."""

    by_outcome: pl.DataFrame
    by_quarter: pl.DataFrame
    trend: pl.DataFrame  # by month of run, across the run history
    open_findings: pl.DataFrame
    changes: pl.DataFrame
    precision: pl.DataFrame
    by_indication: pl.DataFrame = field(default_factory=pl.DataFrame)
    crlm_by_provider: pl.DataFrame = field(default_factory=pl.DataFrame)
    special_arrangements: pl.DataFrame = field(default_factory=pl.DataFrame)
    special_arrangements_guidance: pl.DataFrame = field(default_factory=pl.DataFrame)
    recent_runs: pl.DataFrame = field(default_factory=pl.DataFrame)


def read_position(
    con: duckdb.DuckDBPyConnection, settings: Settings, run_id: str, recent: pl.DataFrame
) -> Position:
    """The report's frames, from the temp table `position` (select_position) and the run
    (its changes narrowed as the position is)."""
    return Position(
        by_outcome=con.sql(sql("reports/position_by_outcome")).pl(),
        by_quarter=con.sql(sql("reports/position_by_quarter")).pl(),
        trend=con.sql(sql("reports/compliance_by_month_of_run"), params={"run_id": run_id}).pl(),
        open_findings=con.sql(
            "select * from position where open order by rule_id, outcome, episode_id, position"
        ).pl(),
        changes=con.sql(
            sql("reports/changes_in_run"), params={"run_id": run_id} | scope(settings)
        ).pl(),
        precision=con.sql("select * from rule_precision").pl(),
        by_indication=con.sql(sql("reports/position_by_indication")).pl(),
        crlm_by_provider=con.sql(
            sql("reports/crlm_resections_and_ablations"), params=scope(settings)
        ).pl(),
        special_arrangements=con.sql(
            sql("reports/special_arrangements_by_month"), params=scope(settings)
        ).pl(),
        special_arrangements_guidance=con.sql(
            "select * from special_arrangements_guidance order by guidance"
        ).pl(),
        recent_runs=recent,
    )


def rule_view(rule, position: Position) -> dict:
    """One rule's part of the report: headline, outcomes, providers, quarters, the open
    findings and how often the auditors found it right."""
    counts = position.by_outcome.filter(pl.col("rule_id") == rule.id)
    per_outcome = {
        outcome: (findings, reviewed, open_)
        for outcome, findings, reviewed, open_ in counts.group_by("outcome")
        .agg(pl.col("findings", "reviewed", "open").sum())
        .iter_rows()
    }
    outcomes = [
        {
            "outcome": o.outcome,
            "severity": o.severity,
            "needs_action": o.needs_action,
            "description": o.description,
            "findings": per_outcome.get(o.outcome, (0, 0, 0))[0],
        }
        for o in rule.outcomes
    ]
    assessed = sum(o["findings"] for o in outcomes)
    for outcome in outcomes:
        outcome["percent"] = percent(outcome["findings"], assessed)
    passing = {o.outcome for o in rule.outcomes if o.severity == "pass"}
    acting = set(rule.needs_action)
    compliant = sum(o["findings"] for o in outcomes if o["outcome"] in passing)
    headline = {
        "assessed": assessed,
        "compliant": compliant,
        "percent_compliant": percent(compliant, assessed),
        "needing_action": sum(o["findings"] for o in outcomes if o["outcome"] in acting),
        "open": int(counts["open"].sum()),
        "reviewed": int(counts["reviewed"].sum()),
    }
    providers = []
    for provider in sorted(counts["provider_code"].unique().to_list()):
        rows = counts.filter(pl.col("provider_code") == provider)
        by = dict(rows.select("outcome", "findings").iter_rows())
        total = sum(by.values())
        ok = sum(n for name, n in by.items() if name in passing)
        providers.append(
            {
                "provider": provider,
                "assessed": total,
                "compliant": ok,
                "percent_compliant": percent(ok, total),
                "needing_action": sum(n for name, n in by.items() if name in acting),
                "open": int(rows["open"].sum()),
                "outcomes": by,
            }
        )
    names = [o["outcome"] for o in outcomes]
    quarters = position.by_quarter.filter(pl.col("rule_id") == rule.id).to_dicts()
    precision = position.precision.filter(pl.col("rule_id") == rule.id).to_dicts()
    return {
        "rule": rule,
        "headline": headline,
        "outcomes": outcomes,
        "providers": providers,
        "providers_chart": Markup(
            stacked_bars(
                [(p["provider"], p["outcomes"]) for p in providers],
                names,
                f"{rule.title}: outcomes by provider",
            )
        ),
        "quarters": quarters,
        "quarters_chart": Markup(
            period_rate(
                [(q["quarter"], q["percent_compliant"], q["findings"]) for q in quarters],
                f"{rule.title}: percent compliant by quarter of episode end",
            )
        ),
        "trend_chart": Markup(
            period_rate(
                position.trend.filter(pl.col("rule_id") == rule.id)
                .select("month", "percent_compliant", "findings")
                .rows(),
                f"{rule.title}: percent compliant of each month's runs",
            )
        ),
        "open_findings": position.open_findings.filter(pl.col("rule_id") == rule.id).to_dicts(),
        "precision": precision[0] if precision else None,
    }


def changes_view(changes: pl.DataFrame, catalogue: Catalogue) -> dict:
    """What the run changed: counts per rule and kind of change, and the changed findings
    (all but the new compliant ones, which are counted)."""
    kinds = ["new finding", "resolved", "outcome changed", "no longer found"]
    counts = {
        rule.id: {
            kind: changes.filter((pl.col("rule_id") == rule.id) & (pl.col("change") == kind)).height
            for kind in kinds
        }
        for rule in catalogue.rules
    }
    listed = changes.filter(
        ~((pl.col("change") == "new finding") & ~pl.col("needs_action_now"))
    ).to_dicts()
    return {"kinds": kinds, "counts": counts, "listed": listed, "total": changes.height}


def render_report(
    summary: dict,
    position: Position,
    catalogue: Catalogue,
    settings: Settings,
    shareable: pl.DataFrame,
    index: str | None = None,
) -> str:
    """report.html of the run `summary`: the standing position, then what the run changed;
    `index` the link to reports/index.html, if any."""
    rules = [rule_view(rule, position) for rule in catalogue.rules]
    periods = (
        shareable.filter(pl.col("period_from").is_not_null())
        .select(pl.col("period_from").min(), pl.col("period_to").max())
        .row(0)
        if shareable.height
        else (None, None)
    )
    runs = position.recent_runs
    if "status" in runs.columns:  # the run writing the report is still running: say which
        runs = runs.with_columns(
            status=pl.when(
                (pl.col("run_id") == summary["run_id"]) & (pl.col("status") == "running")
            )
            .then(pl.lit("this run"))
            .otherwise(pl.col("status"))
        )
    titles = {rule.id: rule.title for rule in catalogue.rules}
    by_indication = [
        row | {"rule": titles.get(row["rule_id"], row["rule_id"]),
               "indication": words(row["indication"]),
               "percent_compliant": percent(row["compliant"], row["findings"])}
        for row in position.by_indication.to_dicts()
    ]  # fmt: skip
    crlm = [
        row | {"percent_resected": percent(row["resection_only"] + row["both"], row["episodes"])}
        for row in position.crlm_by_provider.to_dicts()
    ]
    shown = ["rule_id", "period", "provider_code", *COUNTS, "percent_compliant"]
    return TEMPLATES.get_template("report.html.j2").render(
        summary=summary,
        code_checks=code_checks_note(summary),
        scope=scope_of(settings),
        narrowed=any(scope(settings).values()),
        rules=rules,
        totals={
            key: sum(r["headline"][key] for r in rules)
            for key in ("assessed", "needing_action", "open", "reviewed")
        },
        changes=changes_view(position.changes, catalogue),
        by_indication=by_indication,
        crlm=crlm,
        special_arrangements=position.special_arrangements.to_dicts(),
        special_arrangements_guidance=position.special_arrangements_guidance.to_dicts(),
        runs=runs.to_dicts(),
        shareable_columns=shown,
        shareable=shareable.select(shown).to_dicts() if shareable.height else [],
        periods=periods,
        method=METHOD,
        catalogue=catalogue,
        index=index,
    )


def render_index(runs: pl.DataFrame, reports: Path) -> str:
    """reports/index.html: every run, newest first, with a link to its report (relative when
    it is under `reports`), or what it wrote instead."""
    rows = []
    for run in runs.iter_rows(named=True):
        report = None
        folder = Path(run["audit_files"]) if run["audit_files"] else None
        if folder and folder.is_relative_to(reports.resolve()):
            report = (folder.relative_to(reports.resolve()) / "report.html").as_posix()
        elif folder and folder.is_absolute():
            report = (folder / "report.html").as_uri()
        # (an older version recorded the folder as given, maybe relative: no link)
        rows.append(run | {"report": report})
    latest = next((row for row in rows if row["report"]), None)
    return TEMPLATES.get_template("index.html.j2").render(runs=rows, latest=latest)
