"""The geometry of the console's SVG charts, drawn by templates/charts.html: numbers here,
markup there (where Jinja escapes every label)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 160
LEFT = 40  # room for the scale
BAR_WIDTH = 420
BAR_HEIGHT = 22
LABEL_WIDTH = 280


@dataclass(frozen=True)
class Series:
    key: str  # accepted | refused | delivered: the word and the CSS class
    points: str  # "x,y x,y ..." for a polyline
    total: int


@dataclass(frozen=True)
class TimeChart:
    width: int
    height: int
    left: int
    top_value: int
    series: tuple[Series, ...]
    start_label: str
    end_label: str


def time_chart(counts: Mapping[str, Sequence[int]], start_label: str, end_label: str) -> TimeChart:
    """One line per series over equal buckets, scaled to the largest count."""
    top = max([1, *(max(values, default=0) for values in counts.values())])
    series = []
    for key, values in counts.items():
        step = (WIDTH - LEFT) / max(1, len(values) - 1)
        points = " ".join(
            f"{LEFT + i * step:.1f},{HEIGHT - 10 - (v / top) * (HEIGHT - 20):.1f}"
            for i, v in enumerate(values)
        )
        series.append(Series(key, points, sum(values)))
    return TimeChart(WIDTH, HEIGHT, LEFT, top, tuple(series), start_label, end_label)


@dataclass(frozen=True)
class Bar:
    label: str
    y: int
    width: float  # 0 when there is no ratio
    ratio: float | None
    meets: bool | None


@dataclass(frozen=True)
class RatioChart:
    width: int
    height: int
    label_width: int
    bar_width: int
    bar_height: int
    target_x: float
    bars: tuple[Bar, ...]


def ratio_chart(rows: Sequence[tuple[str, float | None, bool | None]], target: float) -> RatioChart:
    """A horizontal bar per (label, ratio, meets) and the target as a dashed line."""
    bars = tuple(
        Bar(label, 24 + i * (BAR_HEIGHT + 6), (ratio or 0.0) * BAR_WIDTH, ratio, meets)
        for i, (label, ratio, meets) in enumerate(rows)
    )
    height = 30 + len(bars) * (BAR_HEIGHT + 6)
    return RatioChart(
        width=LABEL_WIDTH + BAR_WIDTH + 70,
        height=height,
        label_width=LABEL_WIDTH,
        bar_width=BAR_WIDTH,
        bar_height=BAR_HEIGHT,
        target_x=LABEL_WIDTH + target * BAR_WIDTH,
        bars=bars,
    )
