"""Horizontal bar charts as plain geometry for a server-rendered SVG (templates/insights/fragments/bar_chart.html).

Pure: labels and numbers in, rectangles out. The SVG is an image with a title and a description; the numbers
themselves are in the table printed next to it, which is what screen readers and people without pictures read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

WIDTH = 640
LABEL_WIDTH = 200
VALUE_WIDTH = 110
BAR_HEIGHT = 14
GAP = 8
# Colours with at least 3:1 contrast against white (WCAG 2.2, 1.4.11 non-text contrast), told apart by the legend.
COLOURS = ("#1f5f99", "#b3541e")


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: float
    height: int
    colour: str
    text: str

    @property
    def text_x(self) -> float:
        return round(self.x + self.width + 4, 1)


@dataclass(frozen=True)
class Row:
    label: str
    y: int
    bars: list[Bar]


@dataclass
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: int
    label_width: int
    rows: list[Row] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)


def bar_chart(chart_id: str, title: str, description: str, rows: Sequence[tuple[str, Sequence[object]]],
              *, series: Sequence[str] = (), texts: Sequence[Sequence[str]] | None = None) -> Chart:
    """One group of bars per row (one bar per series), scaled to the largest value; None or negative draws none.

    `texts` are the values as printed at the end of each bar (defaults to the numbers as they are).
    """
    numbers = [[_number(value) for value in values] for _, values in rows]
    largest = max((n for group in numbers for n in group), default=0.0) or 1.0
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    per_series = max(1, max((len(values) for _, values in rows), default=1))
    group_height = per_series * BAR_HEIGHT
    chart_rows = []
    y = GAP
    for index, (label, values) in enumerate(rows):
        bars = []
        for position, number in enumerate(numbers[index]):
            text = texts[index][position] if texts else str(values[position] if values[position] is not None else "")
            bars.append(Bar(x=LABEL_WIDTH, y=y + position * BAR_HEIGHT, width=round(span * number / largest, 1),
                            height=BAR_HEIGHT - 2, colour=COLOURS[position % len(COLOURS)], text=text))
        chart_rows.append(Row(label=label, y=y + group_height // 2 + 4, bars=bars))
        y += group_height + GAP
    legend = [(name, COLOURS[position % len(COLOURS)]) for position, name in enumerate(series)]
    return Chart(id=chart_id, title=title, description=description, width=WIDTH, height=max(y, 2 * GAP),
                 label_width=LABEL_WIDTH, rows=chart_rows, legend=legend)


def _number(value: object) -> float:
    if value is None:
        return 0.0
    try:
        number = float(Decimal(str(value)))
    except (ArithmeticError, ValueError):
        return 0.0
    return max(number, 0.0)
