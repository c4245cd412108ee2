"""The pages read current state and rollups in a fixed number of queries, whatever the number of
components or the length of history."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from monitors.models import Probe, ProbeRollup
from statuspage import actions
from statuspage.models import (
    Component,
    ComponentDay,
    ComponentGroup,
    Incident,
    Journey,
    Maintenance,
)
from statuspage.public import front_page
from tests.public.pages import open_incident, platform

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
PAGE_QUERIES = 13  # see front_page.load_page


def world(components: int, history_days: int) -> list[str]:
    """`components` public components (5 or at least 6) and an internal one, with daily
    rollups, probes with hourly rollups, incidents open and resolved, maintenance."""
    lending = platform(extra_components=max(components - 6, 0))
    if components == 5:
        lending.gateway.delete()
    start = NOW - timedelta(days=history_days)
    Component.objects.update(created_at=start)
    ComponentDay.objects.bulk_create(
        ComponentDay(
            component=c,
            day=(start + timedelta(days=d)).date(),
            worst_status="partial_outage",
            partial_seconds=600,
        )
        for c in Component.objects.all()
        for d in range(0, history_days, 3)
    )
    for component in Component.objects.filter(is_public=True):
        probe = Probe.objects.create(component=component, name="health", kind="http")
        ProbeRollup.objects.bulk_create(
            ProbeRollup(
                probe=probe,
                vantage_point="local",
                period="hour",
                start=NOW.replace(minute=0) - timedelta(hours=h),
                checks=60,
                latency_sum_ms=6000.0,
                latency_count=60,
            )
            for h in range(0, 24 * 7, 2)
        )
    for days in range(1, history_days, 14):
        incident = open_incident(
            {lending.repayment: "partial_outage"}, NOW - timedelta(days=days), title=f"Old {days}"
        )
        actions.resolve_incident(
            incident, body="Fixed.", actor=None, via="system", now=NOW - timedelta(days=days - 1)
        )
    incident = open_incident({lending.bureau: "major_outage"}, NOW - timedelta(hours=1))
    maintenance = actions.schedule_maintenance(
        title="Upgrade",
        starts_at=NOW + timedelta(days=1),
        ends_at=NOW + timedelta(days=1, hours=1),
        components=[lending.disbursement],
        actor=None,
        via="system",
        now=NOW - timedelta(hours=1),
    )
    return [
        "/",
        "/history",
        "/history?page=2",
        "/components/repay",
        f"/incidents/{incident.pk}",
        f"/maintenance/{maintenance.pk}",
    ]


@pytest.mark.parametrize("components,history_days", [(5, 30), (40, 365)])
def test_the_front_page_loads_in_a_fixed_number_of_queries(
    db, django_assert_num_queries, components, history_days
):
    with time_machine.travel(NOW, tick=False):
        world(components, history_days)
        with django_assert_num_queries(PAGE_QUERIES):
            page = front_page.load_page()
    assert len(page.components) == components
    assert all(len(c.charts) == 2 for c in page.components)


def view_queries(path: str, language: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = Client().get(path, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_page_costs_the_same_for_5_and_40_components(db, language):
    counts = []
    for components, history_days in ((5, 30), (40, 365)):
        with time_machine.travel(NOW, tick=False):
            paths = world(components, history_days)
            counts.append([view_queries(path, language) for path in paths])
        for model in (Incident, Maintenance, Journey, ComponentGroup, Component):
            model.objects.all().delete()
    assert counts[0] == counts[1]
