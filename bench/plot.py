"""Small SVG line charts for the benchmarks, written by hand.

A few lines on log-log axes need no plotting library: this keeps the benchmarks free of a large
dependency (and of its fonts and backends), and the SVG it writes is plain text that diffs well
and renders on GitHub.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

COLOURS = ("#005eb8", "#d5281b", "#007f3b", "#7c2855", "#ed8b00", "#330072")
WIDTH, HEIGHT = 460, 330
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 40, 52


def _decades(low: float, high: float) -> list[float]:
    return [
        10.0**power for power in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    ]


def _label(value: float) -> str:
    if value >= 1:
        return f"{value:,.0f}"
    return f"{value:g}"


def panel(
    title: str,
    x_label: str,
    lines: Sequence[tuple[str, Sequence[tuple[float, float]]]],
    offset_x: float,
) -> list[str]:
    """One chart: lines of (x, seconds) points on log-log axes, its top-left corner at offset_x."""
    points = [point for _, series in lines for point in series]
    if not points:
        return []
    xs = _decades(min(x for x, _ in points), max(x for x, _ in points))
    ys = _decades(min(y for _, y in points), max(y for _, y in points))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        span = math.log10(xs[-1]) - math.log10(xs[0]) or 1
        return offset_x + LEFT + (math.log10(x) - math.log10(xs[0])) / span * plot_w

    def sy(y: float) -> float:
        span = math.log10(ys[-1]) - math.log10(ys[0]) or 1
        return TOP + plot_h - (math.log10(y) - math.log10(ys[0])) / span * plot_h

    out = [
        f'<text x="{offset_x + LEFT}" y="22" font-weight="bold">{escape(title)}</text>',
        f'<text x="{offset_x + LEFT + plot_w / 2}" y="{HEIGHT - 12}" text-anchor="middle">'
        f"{escape(x_label)}</text>",
        f'<text transform="translate({offset_x + 14},{TOP + plot_h / 2}) rotate(-90)" '
        'text-anchor="middle">seconds (log scale)</text>',
    ]
    for x in xs:
        out.append(
            f'<line x1="{sx(x):.1f}" y1="{TOP}" x2="{sx(x):.1f}" y2="{TOP + plot_h}" '
            'stroke="#d8dde0"/>'
        )
        out.append(
            f'<text x="{sx(x):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{_label(x)}</text>'
        )
    for y in ys:
        out.append(
            f'<line x1="{offset_x + LEFT}" y1="{sy(y):.1f}" x2="{offset_x + LEFT + plot_w}" '
            f'y2="{sy(y):.1f}" stroke="#d8dde0"/>'
        )
        out.append(
            f'<text x="{offset_x + LEFT - 6}" y="{sy(y) + 4:.1f}" text-anchor="end">'
            f"{_label(y)}</text>"
        )
    for index, (name, series) in enumerate(lines):
        colour = COLOURS[index % len(COLOURS)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in series)
        figures = ", ".join(f"{x:,.0f} → {y:.3f} s" for x, y in series)
        out.append(f"<g><title>{escape(name.replace('`', ''))}: {figures}</title>")
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in series:
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{colour}"/>')
        out.append("</g>")
    return out


def write_growth_svg(
    rows: Sequence[dict[str, Any]], measures: Sequence[tuple[str, str]], path: Path
) -> None:
    """Two charts side by side: each measure's seconds as others' cycles grow, then own cycles."""
    others = [row for row in rows if row["series"] == "others"]
    own = [row for row in rows if row["series"] == "own"]
    if others and own:
        own = [others[-1], *own]  # the own series starts where the others series ended
    body: list[str] = []
    body += panel(
        f"Home organisation ({others[0]['home']:,} cycles) as others grow" if others else "",
        "cycles of other organisations",
        [(label, [(row["others"], row[name][1]) for row in others]) for name, label in measures],
        0,
    )
    body += panel(
        "As the organisation's own cycles grow",
        "the organisation's own cycles",
        [(label, [(row["home"], row[name][1]) for row in own]) for name, label in measures],
        WIDTH,
    )
    legend_y = HEIGHT + 8
    for index, (_, label) in enumerate(measures):
        colour = COLOURS[index % len(COLOURS)]
        x = 20 + (index % 3) * 300
        y = legend_y + (index // 3) * 20
        body.append(f'<rect x="{x}" y="{y}" width="14" height="4" fill="{colour}"/>')
        body.append(f'<text x="{x + 20}" y="{y + 6}">{escape(label.replace("`", ""))}</text>')
    total_h = legend_y + 20 * ((len(measures) + 2) // 3) + 8
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * WIDTH}" height="{total_h}" '
        f'viewBox="0 0 {2 * WIDTH} {total_h}" font-family="Arial, sans-serif" font-size="12" '
        'role="img" aria-label="Seconds per page or report as the database grows">\n'
        '<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(body) + "\n</svg>\n"
    )
    path.write_text(svg, encoding="utf-8")
