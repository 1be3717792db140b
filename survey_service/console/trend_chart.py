"""The trend chart of 与上一轮对比: each round of the county, in the order they opened, as a point (its
社会认可度) with a vertical whisker (its interval), joined by a line, against the target as a dashed
line. Python computes every coordinate; templates/console/_comparison.html only draws them as inline
SVG (presentation attributes only, as the other charts: the Content-Security-Policy blocks style
attributes and scripts). Points are not bars, so the axis need not start at 0%: it spans the intervals
and the target, in whole ten-percent steps, and says so by its tick labels.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from analysis.comparison_results import TrendPoint

WIDTH = 780
LEFT, RIGHT = 64, 40
TOP, PLOT_HEIGHT = 34, 220
BOTTOM = 62  # two lines of labels under each point: the round and its date
STEP = 0.05


@dataclasses.dataclass(frozen=True)
class TrendMark:
    x: float
    y: float
    low_y: float
    high_y: float
    value: str  # the estimate, printed above the point
    label: str  # the round's title
    date: str
    current: bool
    previous: bool


@dataclasses.dataclass(frozen=True)
class TrendChart:
    title: str
    width: int
    height: int
    marks: list[TrendMark]
    path: str  # the polyline's points
    ticks: list[tuple[float, str]]  # (y, label)
    target_y: float
    target_label: str
    left: int = LEFT
    right: int = WIDTH - RIGHT


def _bounds(points: Sequence[TrendPoint], target: float) -> tuple[float, float]:
    low = min([target, *(p.ci_low for p in points)])
    high = max([target, *(p.ci_high for p in points)])
    return max(0.0, math.floor(low / STEP) * STEP), min(1.0, math.ceil(high / STEP) * STEP)


def _short(title: str, limit: int = 16) -> str:
    """A round's title as the chart has room for: its end, where rounds of one county differ (the year)."""
    return title if len(title) <= limit else "…" + title[-(limit - 1) :]


def trend_chart(points: Sequence[TrendPoint], target: float, previous_round: int | None) -> TrendChart:
    """The chart of `points` (in time order); `previous_round` is marked as the round compared with."""
    low, high = _bounds(points, target)
    span = max(high - low, STEP)

    def y(share: float) -> float:
        return round(TOP + PLOT_HEIGHT * (1 - (share - low) / span), 1)

    plot = WIDTH - LEFT - RIGHT
    gap = plot / max(len(points), 1)
    marks = [
        TrendMark(
            x=round(LEFT + gap * (k + 0.5), 1),
            y=y(p.estimate),
            low_y=y(p.ci_low),
            high_y=y(p.ci_high),
            value=f"{p.estimate:.1%}",
            label=_short(p.title),
            date=p.date or "",
            current=p.current,
            previous=p.round is not None and p.round == previous_round,
        )
        for k, p in enumerate(points)
    ]
    steps = round(span / STEP)
    ticks = [(y(low + k * STEP), f"{low + k * STEP:.0%}") for k in range(steps + 1)]
    return TrendChart(
        title="本县各轮社会认可度",
        width=WIDTH,
        height=TOP + PLOT_HEIGHT + BOTTOM,
        marks=marks,
        path=" ".join(f"{m.x},{m.y}" for m in marks),
        ticks=ticks,
        target_y=y(target),
        target_label=f"目标 {target:.0%}",
    )
