"""Charts for report.html as inline SVG written here, with no chart library.

Why no library: the report must render offline, inside one file, on locked-down machines, and
print well. Hand-written SVG needs no script (so no script can misbehave or be blocked),
weighs a few kilobytes, scales and prints crisply, and every label goes through html.escape.
The two charts the report needs (stacked bars, a line of rates by period) are small enough to
write and test here; a JS library (Vega-Lite, Chart.js, Plotly) would add 200 KB to 3 MB of
inlined script per report for no gain.
"""

from html import escape

# Colour-blind-safe palette (Okabe-Ito), one colour per outcome in the rule's order; a rule
# with more outcomes than colours repeats them rather than lose a series.
PALETTE = ["#009E73", "#D55E00", "#E69F00", "#CC79A7", "#56B4E9", "#999999", "#0072B2",
           "#F0E442", "#000000"]  # fmt: skip


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def stacked_bars(rows: list[tuple[str, dict[str, int]]], series: list[str], title: str) -> str:
    """Horizontal stacked bars: one bar per label, one segment per series, with a legend."""
    if not rows:
        return ""
    bar, gap, label_width, chart_width = 18, 8, 90, 520
    widest = max(sum(values.values()) for _, values in rows) or 1
    # legend items laid out in lines that fit the chart's width
    legend, x, line = [], label_width, 0
    for index, name in enumerate(series):
        item = 14 + 7 * len(name) + 12
        if x + item > label_width + chart_width and x > label_width:
            x, line = label_width, line + 1
        legend.append((x, line, name, colour(index)))
        x += item
    height = len(rows) * (bar + gap) + 24 + 18 * (line + 1)
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {label_width + chart_width + 10} '
        f'{height}" width="100%" style="max-width:{label_width + chart_width + 10}px" '
        'xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
    ]
    for index, (label, values) in enumerate(rows):
        y = index * (bar + gap)
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>'
        )
        x = label_width
        for index, name in enumerate(series):
            count = values.get(name, 0)
            if count:
                width = chart_width * count / widest
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{bar}" fill="{colour(index)}">'
                    f"<title>{escape(label)}: {escape(name)} {count}</title></rect>"
                )
                x += width
    for x, line, name, fill in legend:
        legend_y = len(rows) * (bar + gap) + 14 + 18 * line
        parts.append(f'<rect x="{x}" y="{legend_y - 10}" width="10" height="10" fill="{fill}"/>')
        parts.append(f'<text x="{x + 14}" y="{legend_y}">{escape(name.replace("_", " "))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def period_rate(points: list[tuple[str, float, int]], title: str) -> str:
    """A line of a percentage by period (month or quarter): points are (period, percent,
    denominator); each point labelled with its percent and, below it, the number behind it
    (a rate of 1 or 2 procedures swings 0% to 100%: the reader must see that)."""
    if not points:
        return ""
    left, top, width, height = 40, 10, 520, 160
    inset = 36  # the first and last points' labels clear the axis labels and the edge
    muted = "#5a6872"
    # periods spread across the width; a single period sits in the middle
    step = (width - 2 * inset) / (len(points) - 1) if len(points) > 1 else 0
    start = left + inset if len(points) > 1 else left + width / 2
    coordinates = [
        (start + i * step, top + height * (1 - percent / 100))
        for i, (_, percent, _) in enumerate(points)
    ]
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {left + width + 20} {height + 64}" '
        f'width="100%" style="max-width:{left + width + 20}px" xmlns="http://www.w3.org/2000/svg" '
        'font-family="system-ui, sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
    ]
    for percent in (0, 50, 100):
        y = top + height * (1 - percent / 100)
        parts.append(f'<line x1="{left}" x2="{left + width}" y1="{y}" y2="{y}" stroke="#e3e8eb"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4}" text-anchor="end">{percent}%</text>')
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
    parts.append(f'<polyline points="{path}" fill="none" stroke="#005EB8" stroke-width="2"/>')
    for (x, y), (period, percent, count) in zip(coordinates, points, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#005EB8">'
            f"<title>{escape(period)}: {percent:.1f}% of {count}</title></circle>"
        )
        if len(points) <= 12:  # few enough to label each value, which also helps on paper
            above = y - 7 > top + 8
            parts.append(
                f'<text x="{x:.1f}" y="{y - 7 if above else y + 15:.1f}" text-anchor="middle">'
                f"{percent:.0f}%</text>"
            )
            parts.append(
                f'<text x="{x:.1f}" y="{y + 15 if above else y + 27:.1f}" text-anchor="middle" '
                f'fill="{muted}">n={count}</text>'
            )
    every = 1 if len(points) <= 8 else -(-len(points) // 6)  # each of 8, else about 6
    for i, (period, _, _) in enumerate(points):
        if i % every == 0:
            x = start + i * step
            parts.append(
                f'<text x="{x:.1f}" y="{top + height + 34}" text-anchor="middle">{escape(period)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
