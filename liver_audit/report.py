"""report.html: one self-contained page (no scripts, no network) for a run.

Every value from the data goes through html.escape.
"""

from dataclasses import dataclass
from html import escape

import polars as pl

from liver_audit.catalogue import Catalogue
from liver_audit.charts import monthly_rate, stacked_bars
from liver_audit.disclosure import COUNTS, METHOD

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #1d2a33;
       padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
h3 { font-size: 1rem; margin-top: 1.2rem; }
.muted { color: #5a6872; }
.tiles { display: flex; gap: 1rem; flex-wrap: wrap; }
.tile { border: 1px solid #d5dde2; border-radius: 6px; padding: .6rem 1rem; min-width: 9rem; }
.tile b { display: block; font-size: 1.5rem; }
table { border-collapse: collapse; margin-top: .5rem; }
.scroll { overflow-x: auto; }
th, td { border-bottom: 1px solid #e3e8eb; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f2f5f7; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.bar { background: #005eb8; height: .8rem; display: inline-block; }
.pass { color: #00703c; } .error { color: #b3261e; } .warning { color: #8a5a00; }
code { font-size: .9em; }
@media print { body { margin: 0; max-width: none; font-size: 11px; }
  .tile, tr, svg { break-inside: avoid; } h2 { break-after: avoid; }
  .scroll { overflow: visible; } }
"""


def _table(headers: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _text(value) -> str:
    return "" if value is None else escape(str(value))


@dataclass
class RunHistory:
    """What the warehouse's run history adds to a run's report (counts only): per rule and
    month, percent compliant and findings (rule_id, month, percent_compliant, findings)."""

    trend: pl.DataFrame | None = None  # by month of run
    by_episode_month: pl.DataFrame | None = None  # by month of episode end
    recent_runs: pl.DataFrame | None = None


def compliance(rule: dict) -> str:
    """A rule's headline: '51.2%' of its findings compliant, or 'n/a'."""
    percent = rule["percent_compliant"]
    return "n/a" if percent is None else f"{percent}%"


def readable(name: str) -> str:
    return name.replace("_", " ")


def _points(frame: pl.DataFrame | None, rule_id: str) -> list[tuple[str, float, int]]:
    if frame is None or not frame.height:
        return []
    return (
        frame.filter(pl.col("rule_id") == rule_id)
        .select("month", "percent_compliant", "findings")
        .rows()
    )


def rule_section(rule, counts: dict, findings: pl.DataFrame, history: RunHistory) -> str:
    """One rule's part of the report: headline, outcomes, providers, trend, what needs action."""
    outcomes = counts["outcomes"]
    widest = max((o["findings"] for o in outcomes), default=0) or 1
    tiles = "".join(
        f'<div class="tile"><b>{_text(value)}</b>{_text(label)}</div>'
        for label, value in [
            ("findings", counts["findings"]),
            ("compliant", compliance(counts)),
            ("needing action", counts["needing_action"]),
        ]
    )
    outcome_rows = [
        [
            f'<span class="{_text(o["severity"])}">{_text(readable(o["outcome"]))}</span>',
            _text(o["severity"]),
            "yes" if o["needs_action"] else "",
            _text(o["findings"]),
            f'<span class="bar" style="width:{20 * o["findings"] / widest:.2f}rem"></span>',
        ]
        for o in outcomes
    ]
    names = [o["outcome"] for o in outcomes]
    if findings.height:
        by_provider = (
            findings.with_columns(pl.col("provider_code").fill_null("unknown"))
            .pivot(
                on="outcome", index="provider_code", values="episode_id", aggregate_function="len"
            )
            .fill_null(0)
            .sort("provider_code")
        )
        shown = [name for name in names if name in by_provider.columns]
        provider_rows = [
            [_text(row["provider_code"])] + [_text(row[name]) for name in shown]
            for row in by_provider.iter_rows(named=True)
        ]
        providers = stacked_bars(
            [
                (str(row["provider_code"]), {name: row[name] for name in shown})
                for row in by_provider.iter_rows(named=True)
            ],
            names,
            f"{rule.title}: outcomes by provider",
        ) + _table(
            ["provider"] + [readable(name) for name in shown],
            provider_rows,
            set(range(1, len(shown) + 1)),
        )
    else:
        providers = "<p>No findings.</p>"
    flagged = findings.filter(pl.col("needs_action")).sort("outcome", "episode_id", "position")
    flagged_rows = [
        [_text(row[c]) for c in (
            "episode_id", "provider_code", "episode_start_date", "position", "procedure_code",
            "outcome", "message", "standard",
        )]
        for row in flagged.iter_rows(named=True)
    ]  # fmt: skip
    flagged_table = (
        _table(
            [
                "episode",
                "provider",
                "episode start",
                "position",
                "code",
                "outcome",
                "finding",
                "standard",
            ],
            flagged_rows,
            {3},
        )  # fmt: skip
        if flagged_rows
        else "<p>None.</p>"
    )
    trend = monthly_rate(
        _points(history.trend, rule.id), f"{rule.title}: compliance by month of run"
    )
    by_end = monthly_rate(
        _points(history.by_episode_month, rule.id),
        f"{rule.title}: compliance by month of episode end",
    )
    return f"""
<section id="rule-{_text(rule.id)}">
<h2>{_text(rule.title)}</h2>
<p class="muted">Rule <code>{_text(rule.id)}</code> · {_text(rule.citation)} ·
<a href="#catalogue-{_text(rule.id)}">what it checks</a></p>
<div class="tiles">{tiles}</div>
<h3>Outcomes</h3>
{_table(["outcome", "severity", "needs action", "findings", ""], outcome_rows, {3})}
<h3>By provider</h3>
{providers}
<h3>Trend: compliance by month, across runs</h3>
<p class="muted">Of the findings each month's runs made with this rule, the share compliant
(the warehouse's run history, as <code>liver-audit history</code> lists it).</p>
{trend or "<p>No runs with findings yet.</p>"}
<h3>Compliance by month of episode end</h3>
<p class="muted">Of every finding the warehouse now holds for this rule (latest
assessments), the share compliant, by the month the episode ended.</p>
{by_end or "<p>No dated findings yet.</p>"}
<h3>Needing a coder's action ({len(flagged_rows)})</h3>
{flagged_table}
</section>"""


def catalogue_section(catalogue: Catalogue) -> str:
    """Every rule: what it checks, the standards with where to find them, its outcomes and
    its cases (rules/<id>/)."""
    parts = []
    for rule in catalogue.rules:
        standards = "".join(
            f"<li><b>{_text(s['id'])}</b>: {_text(s['document'])}"
            + (f", {_text(s['section'])}" if s.get("section") else "")
            + (f", p.{_text(s['page'])}" if s.get("page") else "")
            # the address as text, not a link: the report opens offline and fetches nothing
            + (f", <code>{_text(s['url'])}</code>" if s.get("url") else "")
            + "</li>"
            for s in rule.standards
        )
        outcomes = _table(
            ["outcome", "severity", "needs action", "meaning"],
            [
                [
                    _text(readable(o.outcome)),
                    _text(o.severity),
                    "yes" if o.needs_action else "",
                    _text(o.description),
                ]
                for o in rule.outcomes
            ],  # fmt: skip
        )
        cases = _table(
            ["case", "codes", "theatre", "date", "outcomes", "standard"],
            [[_text(case[c]) for c in ("case", "codes", "theatre", "date", "outcomes", "standard")]
             for case in rule.cases],
        )  # fmt: skip
        parts.append(
            f"""<div id="catalogue-{_text(rule.id)}"><h3>{_text(rule.title)} (<code>{_text(rule.id)}</code>)</h3>
<p>{_text(rule.checks)}</p>
<p class="muted">OPCS-4 versions: {_text(", ".join(rule.opcs_versions))}</p>
<ul>{standards}</ul>
{outcomes}
<details><summary>Cases ({len(rule.cases)})</summary>{cases}</details></div>"""
        )
    return "".join(parts)


def render_report(
    summary: dict,
    assessments: pl.DataFrame,
    catalogue: Catalogue,
    shareable: pl.DataFrame | None = None,
    history: RunHistory | None = None,
) -> str:
    history = history or RunHistory()
    tiles = "".join(
        f'<div class="tile"><b>{_text(value)}</b>{_text(label)}</div>'
        for label, value in [
            ("procedures assessed", summary["procedures_assessed"]),
            ("findings", summary["findings"]),
            ("rows read", summary["rows_read"]),
            ("rows loaded", summary["rows_loaded"]),
            ("rows quarantined", summary["rows_quarantined"]),
        ]
    )
    counts = {rule["rule_id"]: rule for rule in summary["rules"]}
    overview = _table(
        ["rule", "findings", "compliant", "needing action"],
        [
            [
                f'<a href="#rule-{_text(rule.id)}">{_text(rule.title)}</a>',
                _text(counts[rule.id]["findings"]),
                _text(compliance(counts[rule.id])),
                _text(counts[rule.id]["needing_action"]),
            ]
            for rule in catalogue.rules
        ],  # fmt: skip
        {1, 2, 3},
    )
    sections = "".join(
        rule_section(
            rule, counts[rule.id], assessments.filter(pl.col("rule_id") == rule.id), history
        )
        for rule in catalogue.rules
    )
    reason_rows = [[_text(r), _text(n)] for r, n in summary["quarantine_reasons"].items()]
    file_rows = [
        [_text(f["file_name"]), _text(f["file_kind"]), _text(f["file_format"]),
         _text(f["rows_read"]), _text(f["rows_loaded"]), _text(f["rows_quarantined"]),
         f"<code>{_text(f['sha256'])}</code>"]
        for f in summary["files"]
    ]  # fmt: skip
    shown = ["rule_id", "period", "provider_code", *COUNTS, "percent_compliant"]
    shareable_table = (
        _table(
            [readable(c) for c in shown],
            [[_text(v) for v in row] for row in shareable.select(shown).iter_rows()],
            set(range(3, len(shown))),
        )
        if shareable is not None and shareable.height
        else "<p>No findings.</p>"
    )
    periods = (
        shareable.filter(pl.col("period_from").is_not_null())
        .select(pl.col("period_from").min(), pl.col("period_to").max())
        .row(0)
        if shareable is not None and shareable.height
        else (None, None)
    )
    runs = history.recent_runs
    if runs is not None and "status" in runs.columns:
        # the run writing this report is still running: say which it is
        runs = runs.with_columns(
            status=pl.when(pl.col("run_id") == summary["run_id"])
            .then(pl.lit("this run"))
            .otherwise(pl.col("status"))
        )
    runs_table = (
        _table(
            [
                "run",
                "started (UTC)",
                "status",
                "read",
                "loaded",
                "quarantined",
                "assessed",
                "compliant by rule",
                "seconds",
            ],
            [[_text(v) for v in row] for row in runs.iter_rows()],
            {3, 4, 5, 6, 8},
        )  # fmt: skip
        if runs is not None and runs.height
        else "<p>No runs yet.</p>"
    )

    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Liver procedure coding audit: run {_text(summary["run_id"])}</title>
<style>{STYLE}</style></head>
<body>
<h1>Liver procedure coding audit</h1>
<p class="muted">Run {_text(summary["run_id"])} · rule catalogue {_text(summary["catalogue_version"])}
· liver-audit {_text(summary["liver_audit_version"])} · holds episode-level data: keep inside the trust</p>
<div class="tiles">{tiles}</div>
<h2>Rules</h2>
{overview}
{sections}
<h2>Recent runs</h2>
<p class="muted">Newest first, with each rule's share of compliant findings in the run.</p>
{runs_table}
<h2>Quarantined rows by reason</h2>
{_table(["reason", "rows"], reason_rows, {1}) if reason_rows else "<p>None.</p>"}
<h2>Input files</h2>
{_table(["file", "kind", "format", "read", "loaded", "quarantined", "SHA-256"], file_rows, {3, 4, 5})}
<h2>Shareable summary</h2>
<p class="muted">The same figures as summary_shareable.csv: every episode the warehouse
holds, as of run {_text(summary["run_id"])} (rule catalogue {_text(summary["catalogue_version"])}),
in periods from {_text(periods[0] or "-")} to {_text(periods[1] or "-")}; by rule, financial year and
quarter of episode end (Q1 April-June), and provider with all providers first. Assessed =
compliant + needing action + other. {_text(METHOD)}. Safe to share outside the team; the rest
of this page is not.</p>
{shareable_table}
<h2>The rule catalogue</h2>
{catalogue_section(catalogue)}
</body></html>
"""
