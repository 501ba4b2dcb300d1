"""Charts as inline SVG: round axis tops, escaped labels, bars below a threshold marked."""

from __future__ import annotations

import re

from hazwatch.render.svg_chart import column_chart, nice_ceiling, paired_columns, ranking_bars


def test_axis_tops_are_round_numbers() -> None:
    assert [nice_ceiling(v) for v in (0, 0.5, 1, 3, 12, 20, 21, 240, 999)] == [
        1,
        1,
        1,
        5,
        20,
        20,
        25,
        250,
        1000,
    ]


def test_columns_scale_to_the_axis_and_labels_are_escaped() -> None:
    svg = str(column_chart([("<a>", 10.0), ("b", 5.0)], height=200, title="t & u"))
    heights = [float(h) for h in re.findall(r'class="bar"[^>]* height="([\d.]+)"', svg)]
    assert heights[0] == 2 * heights[1]  # 10 and 5 on an axis to 10
    assert "&lt;a&gt;" in svg and "<a>" not in svg and "t &amp; u" in svg
    assert svg.startswith("<svg") and svg.endswith("</svg>")


def test_shares_below_the_threshold_are_red_and_missing_ones_say_so() -> None:
    svg = str(ranking_bars([("a", 0.95), ("b", 0.5), ("c", None)], threshold=0.9))
    assert svg.count('class="rank"') == 1 and svg.count('class="rank below"') == 1
    assert "95.0%" in svg and "50.0%" in svg and "—" in svg
    paired = str(paired_columns([("low", 0.8, 0.8), ("high", None, 0.05)]))
    assert paired.count('class="bar found"') == 1 and paired.count('class="bar target"') == 2
