"""The response-time charts of public components: which have probes, their hourly latency
from the probe rollups, and the chart views (drawn by `charts`) the pages show."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext

from monitors.models import Probe, ProbeRollup
from statuspage.languages import pick, uses_second_language
from statuspage.models import Component
from statuspage.public import charts
from statuspage.public.view_models import ChartView, ComponentView

CHART_PERIODS = {
    # label: (hours, time format of the axis, ticks)
    "24h": (24, "%H:%M", 4),
    "7d": (24 * 7, "%m-%d", 7),
}


def with_charts(
    views: dict[int, ComponentView], now: datetime, *, draw: bool = True
) -> dict[int, ComponentView]:
    """The views, those of components with probes given their response-time charts (last 24
    hours and last 7 days, from the hourly probe rollups, two queries). Without `draw`, only
    what the front page shows beside a chart it links to (the address and the text summary)."""
    with_probes, latency, hour = chart_latency(list(views), now)
    return {
        cid: replace(
            view,
            has_probes=True,
            charts=component_charts(view.name, view.slug, latency.get(cid, {}), hour, draw=draw),
        )
        if cid in with_probes
        else view
        for cid, view in views.items()
    }


def chart_latency(
    component_ids: list[int], now: datetime
) -> tuple[set[int], dict[int, dict[datetime, float]], datetime]:
    """Which of the public components `component_ids` have enabled probes, their hourly
    average latency over the last 7 days, and the hour the charts end with (two queries)."""
    probes = Probe.objects.filter(
        component__is_public=True, component_id__in=component_ids, is_enabled=True
    )
    rollups = ProbeRollup.objects.filter(
        probe__component__is_public=True, probe__component_id__in=component_ids
    )
    with_probes = set(probes.values_list("component_id", flat=True).distinct())
    # Rollups start on the hour in UTC (whole hours in every zone that has whole-hour offsets).
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    week_start = hour - timedelta(days=7) + timedelta(hours=1)
    latency: dict[int, dict[datetime, float]] = defaultdict(dict)
    rows = (
        rollups.filter(
            period=ProbeRollup.Period.HOUR,
            start__gte=week_start,
            latency_count__gt=0,
        )
        .values("probe__component_id", "start")
        .annotate(total=Sum("latency_sum_ms"), count=Sum("latency_count"))
        .order_by()
    )
    for row in rows:
        latency[row["probe__component_id"]][row["start"]] = row["total"] / row["count"]
    return with_probes, latency, hour


def component_charts(
    name: str,
    slug: str,
    latency: dict[datetime, float],
    hour: datetime,
    *,
    draw: bool = True,
    labels=tuple(CHART_PERIODS),
    standalone: bool = False,
) -> list[ChartView]:
    end = hour + timedelta(hours=1)
    result = []
    for label in labels:
        hours, time_format, ticks = CHART_PERIODS[label]
        start = end - timedelta(hours=hours)
        points = charts.bucket_series(latency, start=start, end=end, step=timedelta(hours=1))
        summary = charts.summarise(points)
        title = (
            gettext("Response time of %(name)s, last 24 hours")
            if hours == 24
            else gettext("Response time of %(name)s, last 7 days")
        ) % {"name": name}
        if summary.samples:
            description = gettext(
                "Hourly average response time: %(average)d ms on average, at most %(maximum)d ms."
            ) % {"average": round(summary.average), "maximum": round(summary.maximum)}
        else:
            description = gettext("No measurements in this period.")
        svg = (
            charts.response_time_svg(
                points,
                start=start,
                end=end,
                title=title,
                description=description,
                time_format=time_format,
                ticks=ticks,
                standalone=standalone,
            )
            if draw
            else ""
        )
        result.append(
            ChartView(
                label,
                svg,
                summary,
                url=f"/components/{slug}/response-time-{label}.svg",
                alt=f"{title}. {description}",
            )
        )
    return result


def load_chart(component: Component, label: str, now: datetime | None = None) -> ChartView | None:
    """One chart of a public component as a document of its own; None when it has no probes."""
    now = now or timezone.now()
    with_probes, latency, hour = chart_latency([component.pk], now)
    if component.pk not in with_probes:
        return None
    name = pick(component.name, component.name_alt, uses_second_language())
    return component_charts(
        name, component.slug, latency.get(component.pk, {}), hour, labels=(label,), standalone=True
    )[0]
