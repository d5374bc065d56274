"""Bar charts drawn on the server as inline SVG: no JavaScript, nothing to load.

A :class:`Chart` is data first: a title, a description in words, the series and one row per bar.
The page shows its SVG (``role="img"``, named by its ``<title>`` and described by its ``<desc>``)
beside a table of the same numbers, so a screen reader, a printout and a reader who cannot tell
the colours apart all get everything the picture says. The SVG uses presentation attributes only
(no ``style``), so it passes a content security policy that forbids inline styles.

Colours are from the NHS.UK palette, each at least 3:1 against white (WCAG 1.4.11), and stacked
segments are separated by a white gap so that neighbours are told apart without their colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BLUE = "#005eb8"
RED = "#d5281b"
GREY = "#425563"
GREEN = "#007f3b"
PURPLE = "#330072"
TEXT = "#212b32"
RULE = "#768692"

WIDTH = 320
"""Width of the drawing in SVG units. The SVG scales to its column: about 330 pixels on a phone
and 460 beside its table on a wide screen, so its 14-unit text reads at 14 to 20 pixels, close to
the design system's body text (16 and 19)."""
FONT_SIZE = 14
LABEL_HEIGHT = 20
BAR_HEIGHT = 18
ROW_GAP = 10
VALUE_CHAR_WIDTH = 9
"""Room a character of a bar's bold number takes, at most: the longest bar leaves room for it."""
LABEL_CHARS = 40
"""Longer labels are cut short in the drawing (the table beside it has them in full)."""
FONT = "Frutiger W01, Arial, sans-serif"


@dataclass(frozen=True)
class Series:
    label: str
    colour: str


@dataclass(frozen=True)
class Bar:
    label: str
    values: tuple[float, ...]
    """One value per series of the chart, in the order of the series."""

    @property
    def total(self) -> float:
        return sum(self.values)


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart, stacked when it has more than one series."""

    slug: str
    """Unique on the page: the ids of the chart's title and description start with it."""
    title: str
    description: str
    label_heading: str
    """The heading of the table's first column: what each bar is (a cycle, an outcome …)."""
    series: tuple[Series, ...]
    bars: tuple[Bar, ...]
    unit: tuple[str, str] = ("", "")
    """Said after each bar's number in the drawing, one and many: ("gate", "gates")."""

    def __post_init__(self) -> None:
        for bar in self.bars:
            if len(bar.values) != len(self.series):
                raise ValueError(
                    f"bar {bar.label!r} has {len(bar.values)} values for {len(self.series)} series"
                )
            if any(value < 0 for value in bar.values):
                raise ValueError(f"bar {bar.label!r} has a negative value")

    @property
    def is_empty(self) -> bool:
        """Nothing to draw: the page shows the description alone, which says so."""
        return not self.bars

    @property
    def stacked(self) -> bool:
        return len(self.series) > 1

    @property
    def headings(self) -> tuple[str, ...]:
        """The table's column headings: what the bar is, each series, and the total if stacked."""
        heads = [self.label_heading, *(series.label for series in self.series)]
        if self.stacked:
            heads.append("Total")
        return tuple(heads)

    @property
    def rows(self) -> tuple[tuple[str, ...], ...]:
        """The table's rows, the numbers as text."""
        return tuple(
            (
                bar.label,
                *(number(value) for value in bar.values),
                *((number(bar.total),) if self.stacked else ()),
            )
            for bar in self.bars
        )

    @property
    def labelled_rows(self) -> tuple[tuple[tuple[str, str], ...], ...]:
        """The table's rows with each cell's column heading, for tables that stack on a phone."""
        return tuple(tuple(zip(self.headings, row, strict=True)) for row in self.rows)

    @property
    def svg(self) -> SafeString:
        return render_svg(self)


def number(value: float) -> str:
    """A count as a whole number, a measure with at most one decimal place."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{Decimal(str(value)).quantize(Decimal('0.1'), ROUND_HALF_UP):,}"


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1].rstrip() + "…"


def _text(x: float, y: float, content: str, *, anchor: str = "start", bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{x:g}" y="{y:g}" fill="{TEXT}" font-family="{FONT}" '
        f'font-size="{FONT_SIZE}" text-anchor="{anchor}"{weight}>{escape(content)}</text>'
    )


def render_svg(chart: Chart) -> SafeString:
    """The chart as an inline ``<svg>`` element."""
    parts: list[str] = []
    y = 0.0
    if chart.stacked:  # a legend, one series to a line so that it fits a phone
        for series in chart.series:
            parts.append(
                f'<rect x="0" y="{y + 3:g}" width="14" height="14" fill="{series.colour}"/>'
            )
            parts.append(_text(22, y + 15, series.label))
            y += LABEL_HEIGHT + 2
        y += ROW_GAP
    top = y

    def value_text(bar: Bar) -> str:
        unit = chart.unit[0] if bar.total == 1 else chart.unit[1]
        return number(bar.total) + (f" {unit}" if unit else "")

    room = max((len(value_text(bar)) for bar in chart.bars), default=0) * VALUE_CHAR_WIDTH + 8
    largest = max((bar.total for bar in chart.bars), default=0) or 1
    scale = (WIDTH - room) / largest
    for bar in chart.bars:
        parts.append(_text(0, y + FONT_SIZE, _cut(bar.label)))
        y += LABEL_HEIGHT
        x = 0.0
        for series, value in zip(chart.series, bar.values, strict=True):
            width = value * scale
            if width <= 0:
                continue
            # A white gap of one unit between segments of a stack.
            drawn = max(width - 1, 0.5) if chart.stacked else width
            parts.append(
                f'<rect x="{x:.1f}" y="{y:g}" width="{drawn:.1f}" height="{BAR_HEIGHT}" '
                f'fill="{series.colour}"/>'
            )
            x += width
        parts.append(_text(x + 6, y + BAR_HEIGHT - 4, value_text(bar), bold=True))
        y += BAR_HEIGHT + ROW_GAP
    # The zero line the bars grow from.
    parts.append(
        f'<line x1="0" y1="{top - 2:g}" x2="0" y2="{y - ROW_GAP + 2:g}" stroke="{RULE}" '
        'stroke-width="1"/>'
    )
    height = max(y, 1)
    slug = escape(chart.slug)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-labelledby="{slug}-title {slug}-desc" viewBox="0 0 {WIDTH} {height:g}" '
        f'width="100%" focusable="false" class="cycle-chart">'
        f'<title id="{slug}-title">{escape(chart.title)}</title>'
        f'<desc id="{slug}-desc">{escape(chart.description)}</desc>' + "".join(parts) + "</svg>"
    )
    return mark_safe(svg)  # every piece of text in it was escaped above
