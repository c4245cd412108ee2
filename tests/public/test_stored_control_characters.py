"""Text already in the database with control characters (written before the input checks, by
the admin or a config file) never breaks a feed, the calendar, a badge, a page or the
snapshot."""

import re
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
import time_machine

from statuspage import actions
from statuspage.models import (
    AuditEntry,
    Component,
    ComponentStatus,
    Incident,
    IncidentUpdate,
    Maintenance,
)
from statuspage.public.snapshot import publish

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
# Every C0 control but tab, newline and carriage return, which XML 1.0 can carry.
FORBIDDEN = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
DIRTY = "Gateway\x0bslow \x07\x1b[31m\x00"

pytestmark = pytest.mark.django_db


@pytest.fixture
def dirty_world(make_component):
    """Public incident, update, maintenance and component, each with control characters put
    straight into the database (no input boundary in the way)."""
    with time_machine.travel(NOW, tick=False):
        component = make_component("gateway", name="API gateway")
        incident = actions.open_incident(
            title="clean",
            body="clean",
            actor=None,
            via=AuditEntry.Via.SYSTEM,
            components={component: ComponentStatus.PARTIAL_OUTAGE},
        )
        maintenance = actions.schedule_maintenance(
            title="clean",
            starts_at=NOW + timedelta(days=1),
            ends_at=NOW + timedelta(days=1, hours=2),
            actor=None,
            via=AuditEntry.Via.SYSTEM,
            components=[component],
        )
        # Not `.replace` on NUL: PostgreSQL cannot store it at all, so it never is stored.
        stored = DIRTY.replace("\x00", "")
        Incident.objects.filter(pk=incident.pk).update(title=stored, title_alt=stored)
        IncidentUpdate.objects.filter(incident=incident).update(body=f"**{stored}**\n\tmore")
        Maintenance.objects.filter(pk=maintenance.pk).update(title=stored, description=stored)
        Component.objects.filter(pk=component.pk).update(name=stored)
        yield {"incident": incident, "maintenance": maintenance, "component": component}


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/incidents.rss",
        "/feeds/incidents.atom",
        "/feeds/components/gateway.rss",
        "/feeds/components/gateway.atom",
    ],
)
def test_a_feed_drops_control_characters_from_stored_text(client, dirty_world, path):
    response = client.get(path)
    assert response.status_code == 200
    assert not FORBIDDEN.search(response.content)
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    titles = [entry.title for entry in feed.entries]
    assert any(title.startswith("Gatewayslow [31m") for title in titles), titles


def test_the_calendar_drops_control_characters(client, dirty_world):
    response = client.get("/calendar/maintenance.ics")
    assert response.status_code == 200
    assert not FORBIDDEN.search(response.content)
    assert b"SUMMARY:Gatewayslow [31m" in response.content


def test_a_badge_is_well_formed_xml(client, dirty_world):
    from xml.etree import ElementTree

    response = client.get("/components/gateway/badge.svg")
    assert response.status_code == 200
    ElementTree.fromstring(response.content)  # raises on a control character


@pytest.mark.parametrize("page", ["/", "/history", "/incidents/{incident}", "/components/gateway"])
def test_a_page_shows_the_text_without_failing(client, dirty_world, page):
    response = client.get(page.format(incident=dirty_world["incident"].pk))
    assert response.status_code == 200


def test_the_snapshot_is_published_with_stored_control_characters(dirty_world, tmp_path):
    with time_machine.travel(NOW, tick=False):
        meta = publish(tmp_path / "site")
    assert "feeds/incidents.rss" in meta["files"]
    rss = (tmp_path / "site" / "feeds" / "incidents.rss").read_bytes()
    assert not FORBIDDEN.search(rss)
