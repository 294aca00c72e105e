"""The report's inline SVG charts: drawn from the data, every label escaped."""

from liver_audit.charts import period_rate, stacked_bars

HOSTILE = "<script>x</script>"


def test_stacked_bars_draw_a_segment_per_count_and_escape_labels():
    svg = stacked_bars(
        [(HOSTILE, {"compliant": 3, "open_procedure": 1})], ["compliant", "open_procedure"], "t"
    )
    assert svg.startswith("<svg") and svg.count("<rect") == 2 + 2  # 2 segments + 2 legend keys
    assert "<script" not in svg and "&lt;script&gt;" in svg


def test_period_rate_plots_each_month():
    points = [("2025-04", 50.0, 4), ("2025-05", 100.0, 2), (HOSTILE, 0.0, 1)]
    svg = period_rate(points, "trend")
    assert svg.count("<circle") == 3 and "<polyline" in svg
    assert "<script" not in svg


def test_no_data_no_chart():
    assert stacked_bars([], ["compliant"], "t") == "" and period_rate([], "t") == ""


def test_a_single_month_sits_mid_chart_with_its_value():
    svg = period_rate([("2026-11", 51.2, 41)], "trend")
    assert '<circle cx="300.0"' in svg and ">51%</text>" in svg and ">n=41</text>" in svg
