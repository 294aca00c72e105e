"""report.html: one self-contained page (no scripts, no network) for a run.

Every value from the data goes through html.escape.
"""

from dataclasses import dataclass, field
from html import escape

import polars as pl

from liver_audit.catalogue import Catalogue
from liver_audit.charts import monthly_rate, stacked_bars

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #1d2a33;
       padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
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
    """What the warehouse's run history adds to a run's report (counts only)."""

    trend: list[tuple[str, float, int]] = field(default_factory=list)  # by month of run
    by_episode_month: list[tuple[str, float, int]] = field(default_factory=list)
    recent_runs: pl.DataFrame | None = None


def compliance(summary: dict) -> str:
    """The run's headline: '51.2%' of assessed procedures compliant, or 'n/a'."""
    percent = summary["percent_compliant"]
    return "n/a" if percent is None else f"{percent}%"


def render_report(
    summary: dict,
    assessments: pl.DataFrame,
    catalogue: Catalogue,
    shareable: pl.DataFrame | None = None,
    history: RunHistory | None = None,
) -> str:
    history = history or RunHistory()
    outcomes = summary["outcomes"]
    assessed = summary["procedures_assessed"]
    rate = compliance(summary)
    severity = {o["outcome"]: o["severity"] for o in catalogue.outcomes}
    widest = max(outcomes.values(), default=0) or 1

    tiles = "".join(
        f'<div class="tile"><b>{_text(value)}</b>{_text(label)}</div>'
        for label, value in [
            ("procedures assessed", assessed),
            ("compliant", rate),
            ("rows read", summary["rows_read"]),
            ("rows loaded", summary["rows_loaded"]),
            ("rows quarantined", summary["rows_quarantined"]),
        ]
    )
    outcome_rows = [
        [
            f'<span class="{_text(severity.get(name))}">{_text(name)}</span>',
            _text(count),
            f'<span class="bar" style="width:{20 * count / widest:.2f}rem"></span>',
        ]
        for name, count in outcomes.items()
    ]

    if assessments.height:
        by_provider = (
            assessments.pivot(
                on="outcome", index="provider_code", values="episode_id", aggregate_function="len"
            )
            .fill_null(0)
            .sort("provider_code", nulls_last=True)
        )
        names = [name for name in outcomes if name in by_provider.columns]
        provider_rows = [
            [_text(row["provider_code"])] + [_text(row[name]) for name in names]
            for row in by_provider.iter_rows(named=True)
        ]
        headers = ["provider"] + [name.replace("_", " ") for name in names]  # lets headers wrap
        provider_table = _table(headers, provider_rows, set(range(1, len(names) + 1)))
        provider_chart = stacked_bars(
            [
                (str(row["provider_code"]), {name: row[name] for name in names})
                for row in by_provider.iter_rows(named=True)
            ],
            list(outcomes),
            "Outcomes by provider",
        )
        provider_table = provider_chart + provider_table
    else:
        provider_table = "<p>No procedures assessed.</p>"

    flagged = assessments.filter(pl.col("outcome").is_in(catalogue.needs_action))
    flagged_rows = [
        [_text(row[c]) for c in (
            "episode_id", "provider_code", "episode_start_date", "position", "procedure_code",
            "qualifier_codes", "documented_approach", "expected_approach_code", "outcome",
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
                "codes after it",
                "documented approach",
                "expected code",
                "outcome",
            ],
            flagged_rows,
            {3},
        )  # fmt: skip
        if flagged_rows
        else "<p>None.</p>"
    )
    reason_rows = [[_text(r), _text(n)] for r, n in summary["quarantine_reasons"].items()]
    file_rows = [
        [_text(f["file_name"]), _text(f["file_kind"]), _text(f["file_format"]),
         _text(f["rows_read"]), _text(f["rows_loaded"]), _text(f["rows_quarantined"]),
         f"<code>{_text(f['sha256'])}</code>"]
        for f in summary["files"]
    ]  # fmt: skip
    shareable_table = (
        _table(
            [c.replace("_", " ") for c in shareable.columns],
            [[_text(v) for v in row] for row in shareable.iter_rows()],
            set(range(2, shareable.width)),
        )
        if shareable is not None and shareable.height
        else "<p>No procedures assessed.</p>"
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
        '<p class="muted">Recent runs, newest first</p>'
        + _table(
            [
                "run",
                "started (UTC)",
                "status",
                "read",
                "loaded",
                "quarantined",
                "assessed",
                "% compliant",
                "seconds",
            ],
            [[_text(v) for v in row] for row in runs.iter_rows()],
            set(range(3, runs.width)),
        )  # fmt: skip
        if runs is not None and runs.height
        else ""
    )
    rules = "".join(
        f"<p><b>{_text(rule['id'])}</b> ({_text(rule['severity'])}): {_text(rule['description'])}"
        f'<br><span class="muted">Standard: {_text(rule["standard"])}, '
        f"{_text(rule['source_url'])}</span></p>"
        for rule in catalogue.rules
    )

    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Liver resection approach coding audit: run {_text(summary["run_id"])}</title>
<style>{STYLE}</style></head>
<body>
<h1>Liver resection approach coding audit</h1>
<p class="muted">Run {_text(summary["run_id"])} · rule catalogue {_text(summary["catalogue_version"])}
· liver-audit {_text(summary["liver_audit_version"])} · holds episode-level data: keep inside the trust</p>
<div class="tiles">{tiles}</div>
<h2>Outcomes</h2>
{_table(["outcome", "procedures", ""], outcome_rows, {1})}
<h2>Outcomes by provider</h2>
{provider_table}
<h2>Trend: compliance by month, across runs</h2>
<p class="muted">Of the procedures assessed by each month's runs, the share compliant: the
warehouse's run history, as <code>liver-audit history</code> lists it.</p>
{monthly_rate(history.trend, "Compliance rate by month of run") or "<p>No runs with assessments yet.</p>"}
{runs_table}
<h2>Compliance by month of episode end</h2>
<p class="muted">Of every procedure the warehouse now holds (latest assessments), the share
compliant, by the month the episode ended.</p>
{monthly_rate(history.by_episode_month, "Compliance rate by month of episode end") or "<p>No dated assessments yet.</p>"}
<h2>Procedures needing a coder's review ({len(flagged_rows)})</h2>
{flagged_table}
<h2>Quarantined rows by reason</h2>
{_table(["reason", "rows"], reason_rows, {1}) if reason_rows else "<p>None.</p>"}
<h2>Input files</h2>
{_table(["file", "kind", "format", "read", "loaded", "quarantined", "SHA-256"], file_rows, {3, 4, 5})}
<h2>Shareable summary</h2>
<p class="muted">The same figures as summary_shareable.csv: by provider and month of episode end,
with HES disclosure control (1-7 shown as *, other counts rounded to the nearest 5, percentages
from the rounded counts). Safe to share outside the team; the rest of this page is not.</p>
{shareable_table}
<h2>Rules</h2>
{rules}
</body></html>
"""
