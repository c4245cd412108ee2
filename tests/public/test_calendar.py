from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import time_machine

from statuspage import actions
from statuspage.public.caching import clear_public_cache
from tests.public import worlds

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_public_cache()
    with time_machine.travel(NOW, tick=False):
        yield


def calendar(client) -> icalendar.Calendar:
    response = client.get("/calendar/maintenance.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    raw = response.content
    assert all(line.endswith(b"\r") for line in raw.split(b"\n")[:-1]), "lines end in CRLF"
    assert all(len(line) <= 76 for line in raw.split(b"\n")), "lines are folded at 75 octets"
    return icalendar.Calendar.from_ical(raw)


def events(cal) -> dict[str, icalendar.Event]:
    return {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}


def test_it_parses_as_icalendar_with_every_public_window(db, client):
    worlds.busy(NOW)
    cal = calendar(client)
    assert str(cal["VERSION"]) == "2.0"
    assert set(events(cal)) == {
        "Database upgrade",
        "Gateway certificates",
        "Network switch swap",
        "Cancelled window",
    }


def test_an_event_has_a_uid_a_stamp_and_utc_times(db, client, settings):
    settings.SITE_URL = "https://status.example.com"
    world = worlds.busy(NOW)
    event = events(calendar(client))["Database upgrade"]
    assert str(event["UID"]) == f"maintenance-{world['upcoming'].pk}@status.example.com"
    assert event["DTSTART"].dt == NOW + timedelta(hours=24)
    assert event["DTEND"].dt == NOW + timedelta(hours=26)
    assert event["DTSTART"].dt.utcoffset() == timedelta(0)
    assert event["DTSTAMP"].dt == NOW - timedelta(hours=1)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["URL"]) == f"https://status.example.com/maintenance/{world['upcoming'].pk}"
    description = str(event["DESCRIPTION"])
    assert "Affected: Loan App." in description
    assert "Upgrading the loan database; short pauses." in description


def test_a_cancelled_window_is_marked_cancelled(db, client):
    worlds.busy(NOW)
    assert str(events(calendar(client))["Cancelled window"]["STATUS"]) == "CANCELLED"


def test_an_edit_raises_the_sequence(db, client):
    world = worlds.busy(NOW)
    before = int(events(calendar(client))["Database upgrade"]["SEQUENCE"])
    actions.edit_maintenance(
        world["upcoming"], actor=None, via="system", ends_at=NOW + timedelta(hours=27)
    )
    event = events(calendar(client))["Database upgrade"]
    assert int(event["SEQUENCE"]) > before
    assert event["DTEND"].dt == NOW + timedelta(hours=27)


def test_internal_only_windows_and_components_never_appear(db, client):
    worlds.busy(NOW)
    assert worlds.SECRET not in client.get("/calendar/maintenance.ics").content.decode()


def test_text_is_escaped_and_long_lines_folded_without_splitting_characters(db, client):
    actions.schedule_maintenance(
        title="数据库升级" * 20,
        starts_at=NOW + timedelta(hours=1),
        ends_at=NOW + timedelta(hours=2),
        actor=None,
        via="system",
        description="a;b,c\\d\ne",
    )
    raw = client.get("/calendar/maintenance.ics").content
    assert b"DESCRIPTION:a\\;b\\,c\\\\d\\ne" in raw.replace(b"\r\n ", b"")
    lines = raw.split(b"\r\n")
    summary = next(i for i, line in enumerate(lines) if line.startswith(b"SUMMARY:"))
    parts = [lines[summary]]
    while lines[summary + len(parts)].startswith(b" "):
        parts.append(lines[summary + len(parts)])
    assert len(parts) > 1
    # Each piece is whole UTF-8 (no character split) and at most 75 octets.
    assert all(len(part) <= 75 and part.decode() for part in parts)
    assert (
        b"".join(part.removeprefix(b" ") for part in parts)
        == ("SUMMARY:" + "数据库升级" * 20).encode()
    )


def test_escaped_text_round_trips_through_a_parser(db, client):
    c = worlds.components()
    title = "Upgrade; DB, cache \\ queue — 数据库升级 " + "x" * 80
    actions.schedule_maintenance(
        title=title,
        starts_at=NOW + timedelta(hours=1),
        ends_at=NOW + timedelta(hours=2),
        actor=None,
        via="system",
        components=[c["bureau"]],
        description="line one\nline two",
    )
    event = events(calendar(client))[title]
    assert "line one\nline two" in str(event["DESCRIPTION"])
