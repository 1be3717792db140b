"""Chart geometry for the results pages: interval bars against the target line, and the school ×
item heatmap. Python computes every coordinate; templates/console/_charts.html only draws them as
inline SVG with presentation attributes (the Content-Security-Policy blocks style attributes and
scripts). Bars start at 0% so their lengths compare honestly; numbers sit beside every mark so a
black-and-white print still reads.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

WIDTH = 780
LABEL_WIDTH = 220  # school names run to 14 characters
VALUE_WIDTH = 170
PLOT_WIDTH = WIDTH - LABEL_WIDTH - VALUE_WIDTH
ROW_HEIGHT = 26
BAR_HEIGHT = 14
TOP = 28  # room for the target's label
AXIS = 26  # tick labels under the plot
TICKS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)

HEAT_CELL = 40
HEAT_ROW = 24
HEAT_LABEL = 280
HEAT_TOP = 24
LEGEND_STEP = 118


@dataclasses.dataclass(frozen=True)
class Bar:
    label: str
    y: float  # top of the row
    bar_width: float
    low_x: float
    high_x: float
    value: str  # the estimate and its interval, as printed beside the bar


@dataclasses.dataclass(frozen=True)
class IntervalChart:
    title: str
    height: float
    bars: list[Bar]
    ticks: list[tuple[float, str]]
    target_x: float
    target_label: str
    plot_left: float = LABEL_WIDTH
    plot_right: float = LABEL_WIDTH + PLOT_WIDTH
    width: int = WIDTH
    bar_height: int = BAR_HEIGHT


def _x(share: float) -> float:
    return round(LABEL_WIDTH + PLOT_WIDTH * min(max(share, 0.0), 1.0), 1)


def percent(share: float) -> str:
    return f"{share:.1%}"


def interval_chart(title: str, rows: list[tuple[str, float, float, float]], target: float) -> IntervalChart:
    """Horizontal bars (estimate) with whiskers (interval) and the target as a dashed line.

    rows: (label, estimate, interval low, interval high), in the order shown.
    """
    bars = [
        Bar(
            label=label,
            y=TOP + k * ROW_HEIGHT,
            bar_width=_x(estimate) - LABEL_WIDTH,
            low_x=_x(low),
            high_x=_x(high),
            value=f"{percent(estimate)}（{percent(low)}–{percent(high)}）",
        )
        for k, (label, estimate, low, high) in enumerate(rows)
    ]
    return IntervalChart(
        title=title,
        height=TOP + len(bars) * ROW_HEIGHT + AXIS,
        bars=bars,
        ticks=[(_x(t), f"{t:.0%}") for t in TICKS],
        target_x=_x(target),
        target_label=f"目标 {target:.0%}",
    )


@dataclasses.dataclass(frozen=True)
class HeatBin:
    upper: float  # shares below this (and at or above the previous bin's) take this colour
    fill: str
    label: str


def heat_bins(target: float) -> list[HeatBin]:
    """Colour classes around the target: reds below it, blues at or above it (ColorBrewer RdBu,
    its lighter half, so black numbers stay readable on every cell)."""
    edges = [target - 0.15, target - 0.05, target, target + 0.05, target + 0.10]
    fills = ["#d6604d", "#f4a582", "#fddbc7", "#d1e5f0", "#92c5de", "#6baed6"]
    labels = [f"低于 {edges[0]:.0%}"]
    labels += [f"{a:.0%}–{b:.0%}" for a, b in itertools.pairwise(edges)]
    labels.append(f"{edges[-1]:.0%} 及以上")
    return [HeatBin(upper=u, fill=f, label=text) for u, f, text in zip([*edges, math.inf], fills, labels)]


def heat_fill(share: float, bins: list[HeatBin]) -> str:
    return next(b.fill for b in bins if share < b.upper)


@dataclasses.dataclass(frozen=True)
class HeatCell:
    x: float
    fill: str  # "" for a suppressed (blank) cell
    text: str  # the share in whole percent, "" when suppressed


@dataclasses.dataclass(frozen=True)
class HeatRow:
    label: str
    y: float
    cells: list[HeatCell]


@dataclasses.dataclass(frozen=True)
class Heatmap:
    width: float
    height: float
    columns: list[tuple[float, str]]  # (centre x, item number)
    rows: list[HeatRow]
    legend: list[tuple[float, HeatBin]]  # (x, bin)
    legend_y: float
    cell: int = HEAT_CELL
    row_height: int = HEAT_ROW
    label_width: int = HEAT_LABEL


def heatmap(column_labels: list[str], rows: list[tuple[str, list[float | None]]], target: float) -> Heatmap:
    """School rows × item columns of 认可 shares; None (suppressed or no answers) stays blank."""
    bins = heat_bins(target)
    width = max(HEAT_LABEL + HEAT_CELL * len(column_labels), LEGEND_STEP * 6) + 10
    drawn = [
        HeatRow(
            label=label,
            y=HEAT_TOP + k * HEAT_ROW,
            cells=[
                HeatCell(
                    x=HEAT_LABEL + j * HEAT_CELL,
                    fill="" if share is None else heat_fill(share, bins),
                    text="" if share is None else f"{share * 100:.0f}",
                )
                for j, share in enumerate(shares)
            ],
        )
        for k, (label, shares) in enumerate(rows)
    ]
    legend_y = HEAT_TOP + len(rows) * HEAT_ROW + 14
    return Heatmap(
        width=width,
        height=legend_y + 40,
        columns=[(HEAT_LABEL + (j + 0.5) * HEAT_CELL, text) for j, text in enumerate(column_labels)],
        rows=drawn,
        legend=[(k * LEGEND_STEP, b) for k, b in enumerate(bins)],
        legend_y=legend_y,
    )
