"""Charts as inline SVG, drawn in Python: the same picture in a browser and in a PDF, with
no script and nothing from a network.

Three shapes, each returning an ``<svg>`` element as ``Markup`` (every label escaped):

* ``column_chart`` — one column per point (counts over time);
* ``paired_columns`` — per category, the share found beside the target share;
* ``ranking_bars`` — horizontal bars of shares (0–1), highest first, with a threshold line;
  a bar below the threshold is drawn in red, a missing value is labelled "—".

Sizes are in SVG user units with a ``viewBox``, so the chart scales to the page's width.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

INK = "#1f2328"
MUTED = "#59636e"
RULE = "#d1d9e0"
BAR = "#0969da"
TARGET = "#bf8700"
BELOW = "#cf222e"
FONT = 'font-family="Noto Sans CJK SC, DejaVu Sans, sans-serif"'


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above ``value`` (at least 1): the top of
    an axis whose ticks read well."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop ends at 10 × power


def column_chart(
    points: Sequence[tuple[str, float]], *, width: int = 680, height: int = 200, title: str = ""
) -> Markup:
    """One column per ``(label, value)``; the y axis from 0 to a round ceiling with four
    gridlines; labels thinned out so that at most 16 are written."""
    left, right, top, bottom = 40, 8, 18, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    ceiling = nice_ceiling(max((v for _, v in points), default=0.0))
    parts = _open(width, height, title)
    parts += _y_grid(left, top, plot_w, plot_h, ceiling, percent=False)
    n = max(len(points), 1)
    slot = plot_w / n
    every = math.ceil(n / 16)
    for i, (label, value) in enumerate(points):
        h = plot_h * value / ceiling
        x = left + i * slot + slot * 0.15
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.7:.1f}"'
            f' height="{h:.1f}" fill="{BAR}"><title>{escape(label)}: {value:g}</title></rect>'
        )
        if i % every == 0:
            parts.append(_text(left + (i + 0.5) * slot, height - 8, label, anchor="middle", size=9))
    return _close(parts)


def paired_columns(
    groups: Sequence[tuple[str, float | None, float]],
    *,
    width: int = 680,
    height: int = 190,
    title: str = "",
    found_label: str = "实际 / found",
    target_label: str = "目标 / target",
) -> Markup:
    """Per ``(label, found share, target share)`` (shares 0–1; found ``None``: nothing to
    share), two columns side by side, with a legend."""
    left, right, top, bottom = 40, 8, 24, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max([t for _, _, t in groups] + [f or 0.0 for _, f, _ in groups] + [0.01])
    ceiling = min(1.0, nice_ceiling(highest * 100) / 100)
    parts = _open(width, height, title)
    parts += _y_grid(left, top, plot_w, plot_h, ceiling, percent=True)
    slot = plot_w / max(len(groups), 1)
    for i, (label, found, target) in enumerate(groups):
        for j, (value, colour, cls) in enumerate(
            ((found, BAR, "found"), (target, TARGET, "target"))
        ):
            if value is None:
                continue
            h = plot_h * value / ceiling
            x = left + i * slot + slot * (0.15 + 0.35 * j)
            parts.append(
                f'<rect class="bar {cls}" x="{x:.1f}" y="{top + plot_h - h:.1f}"'
                f' width="{slot * 0.33:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(label)}: {value:.1%}</title></rect>"
            )
        parts.append(_text(left + (i + 0.5) * slot, height - 8, label, anchor="middle", size=9))
    parts += _legend(left, 12, ((BAR, found_label), (TARGET, target_label)))
    return _close(parts)


def ranking_bars(
    rows: Sequence[tuple[str, float | None]],
    *,
    threshold: float,
    width: int = 680,
    row_height: int = 18,
    title: str = "",
) -> Markup:
    """A horizontal bar per ``(label, share)`` in the order given, a dashed line at
    ``threshold`` (0–1); shares below it in red."""
    left, right, top, bottom = 150, 48, 8, 20
    plot_w = width - left - right
    height = top + bottom + row_height * max(len(rows), 1)
    parts = _open(width, height, title)
    for i, (label, share) in enumerate(rows):
        y = top + i * row_height
        parts.append(_text(left - 6, y + row_height * 0.7, _clip(label, 24), anchor="end", size=9))
        if share is None:
            parts.append(_text(left + 4, y + row_height * 0.7, "—", anchor="start", size=9))
            continue
        colour = BELOW if share < threshold else BAR
        w = plot_w * min(max(share, 0.0), 1.0)
        parts.append(
            f'<rect class="rank{" below" if share < threshold else ""}" x="{left}"'
            f' y="{y + 3}" width="{w:.1f}" height="{row_height - 6}" fill="{colour}">'
            f"<title>{escape(label)}: {share:.1%}</title></rect>"
        )
        parts.append(
            _text(left + w + 4, y + row_height * 0.7, f"{share:.1%}", anchor="start", size=9)
        )
    x = left + plot_w * threshold
    parts.append(
        f'<line class="threshold" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - bottom}"'
        f' stroke="{BELOW}" stroke-dasharray="4 3"/>'
    )
    parts.append(_text(x, height - 6, f"{threshold:.0%}", anchor="middle", size=9))
    return _close(parts)


def _open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}"'
        f' width="100%" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]


def _close(parts: list[str]) -> Markup:
    return Markup("".join([*parts, "</svg>"]))  # every text above is escaped


def _y_grid(
    left: int, top: int, plot_w: int, plot_h: int, ceiling: float, *, percent: bool
) -> list[str]:
    lines: list[str] = []
    for k in range(5):
        value = ceiling * k / 4
        y = top + plot_h - plot_h * k / 4
        lines.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}"'
            f' stroke="{RULE if k else MUTED}" stroke-width="{0.6 if k else 1}"/>'
        )
        text = f"{value:.0%}" if percent else f"{value:g}"
        lines.append(_text(left - 4, y + 3, text, anchor="end", size=9))
    return lines


def _legend(x: int, y: int, entries: Sequence[tuple[str, str]]) -> list[str]:
    parts: list[str] = []
    for colour, label in entries:
        parts.append(f'<rect x="{x}" y="{y - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(_text(x + 14, y, label, anchor="start", size=9))
        x += 20 + 7 * len(label)
    return parts


def _text(x: float, y: float, text: str, *, anchor: str, size: int) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"'
        f' fill="{INK}" {FONT}>{escape(text)}</text>'
    )


def _clip(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"
