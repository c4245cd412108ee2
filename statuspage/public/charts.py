"""Response-time charts as server-rendered SVG: no charting library, no script, readable
without colour (a line over labelled axes) and described in text for screen readers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH = 400
HEIGHT = 140
# Room for the axis labels inside the drawing.
LEFT, RIGHT, TOP, BOTTOM = 44, 4, 8, 20

# An `<img>` does not see the page's stylesheet: a chart served as a file carries the rules
# of status.css's "charts" section, with its colours written out.
STANDALONE_ATTRIBUTES = f' xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}"'
STANDALONE_STYLE = (
    "<style>"
    ".grid{stroke:#d0d7de;stroke-width:1}"
    ".axis{fill:#57606a;font:10px system-ui,-apple-system,'Segoe UI',sans-serif}"
    ".line{fill:none;stroke:#0969da;stroke-width:2;stroke-linejoin:round}"
    ".line-dot{fill:#0969da}"
    "</style>"
)


@dataclass(frozen=True)
class Point:
    at: datetime  # the start of the bucket
    milliseconds: float | None  # None: no measurement in that bucket


@dataclass(frozen=True)
class ChartSummary:
    average: float | None
    maximum: float | None
    samples: int


def summarise(points: Sequence[Point]) -> ChartSummary:
    values = [p.milliseconds for p in points if p.milliseconds is not None]
    if not values:
        return ChartSummary(None, None, 0)
    return ChartSummary(sum(values) / len(values), max(values), len(values))


def nice_ceiling(value: float) -> float:
    """The axis maximum: the next 1, 2, 2.5 or 5 times a power of ten above `value`."""
    if value <= 0:
        return 100.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def response_time_svg(
    points: Sequence[Point],
    *,
    start: datetime,
    end: datetime,
    title: str,
    description: str,
    time_format: str = "%H:%M",
    ticks: int = 4,
    standalone: bool = False,
) -> SafeString:
    """A line chart of response times between `start` and `end`; buckets without a
    measurement break the line instead of being drawn as zero. `standalone` makes it a
    document of its own (served as a file and shown by `<img>`): the namespace and the
    styles that the page's stylesheet gives an inline chart."""
    span = (end - start).total_seconds() or 1.0
    values = [p.milliseconds for p in points if p.milliseconds is not None]
    top = nice_ceiling(max(values) if values else 0)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def x(at: datetime) -> float:
        return LEFT + plot_w * min(max((at - start).total_seconds() / span, 0.0), 1.0)

    def y(ms: float) -> float:
        return TOP + plot_h * (1 - min(ms / top, 1.0))

    # One path, "M" starting a new run after every gap.
    commands = []
    pen_down = False
    for point in points:
        if point.milliseconds is None:
            pen_down = False
            continue
        commands.append(f"{'L' if pen_down else 'M'}{x(point.at):.1f},{y(point.milliseconds):.1f}")
        pen_down = True
    lone_points = _lone_points(points)

    grid = format_html_join(
        "",
        '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>',
        (
            (
                LEFT,
                WIDTH - RIGHT,
                f"{y(top * i / 2):.1f}",
                f"{y(top * i / 2):.1f}",
                LEFT - 4,
                f"{y(top * i / 2) + 4:.1f}",
                f"{top * i / 2:g} ms",
            )
            for i in range(3)
        ),
    )
    tick_step = (end - start) / ticks
    x_labels = format_html_join(
        "",
        '<text class="axis" x="{}" y="{}" text-anchor="{}">{}</text>',
        (
            (
                f"{x(start + tick_step * i):.1f}",
                HEIGHT - 6,
                # The end labels stay inside the drawing.
                "start" if i == 0 else "end" if i == ticks else "middle",
                timezone.localtime(start + tick_step * i).strftime(time_format),
            )
            for i in range(ticks + 1)
        ),
    )
    dots = format_html_join(
        "",
        '<circle class="line-dot" cx="{}" cy="{}" r="2"/>',
        ((f"{x(p.at):.1f}", f"{y(p.milliseconds):.1f}") for p in lone_points),
    )
    path = (
        format_html('<path class="line" d="{}"/>', " ".join(commands))
        if commands
        else mark_safe("")
    )
    return format_html(
        '<svg class="chart"{document} viewBox="0 0 {w} {h}" role="img"'
        ' aria-label="{title}"><title>{title}</title><desc>{desc}</desc>'
        "{style}{grid}{x_labels}{path}{dots}</svg>",
        document=mark_safe(STANDALONE_ATTRIBUTES if standalone else ""),
        style=mark_safe(STANDALONE_STYLE if standalone else ""),
        w=WIDTH,
        h=HEIGHT,
        title=title,
        desc=description,
        grid=grid,
        x_labels=x_labels,
        path=path,
        dots=dots,
    )


def _lone_points(points: Sequence[Point]) -> list[Point]:
    """Measurements with a gap on both sides: a path segment of one point draws nothing."""
    lone = []
    for i, point in enumerate(points):
        if point.milliseconds is None:
            continue
        before = points[i - 1].milliseconds if i > 0 else None
        after = points[i + 1].milliseconds if i + 1 < len(points) else None
        if before is None and after is None:
            lone.append(point)
    return lone


def bucket_series(
    measurements: dict[datetime, float], *, start: datetime, end: datetime, step: timedelta
) -> list[Point]:
    """Lay measurements keyed by bucket start onto a regular grid, gaps as None."""
    points = []
    cursor = start
    while cursor < end:
        points.append(Point(cursor, measurements.get(cursor)))
        cursor += step
    return points
