"""A recurring maintenance in the calendar feed: one event with its RRULE, cancelled
occurrences as EXDATE, moved ones as RECURRENCE-ID overrides. Checked by expanding the feed
with dateutil (as a calendar app would) after parsing it with icalendar."""

from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import time_machine
from dateutil.rrule import rrulestr

from statuspage import actions
from statuspage.models import AuditEntry, Maintenance
from statuspage.public.caching import clear_public_cache
from statuspage.recurrence import cancel_series, schedule_recurring_maintenance

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    clear_public_cache()
    with time_machine.travel(NOW, tick=False):
        yield


def weekly(staff, rule="FREQ=WEEKLY;BYDAY=SU;COUNT=12"):
    return schedule_recurring_maintenance(
        recurrence=rule,
        title="PBOC weekly window",
        starts_at=datetime(2026, 11, 28, 18, 0, tzinfo=UTC),  # Sunday 02:00 in Shanghai
        ends_at=datetime(2026, 11, 28, 20, 0, tzinfo=UTC),
        actor=staff,
        via=AuditEntry.Via.CONSOLE,
    )


def feed(client) -> list[icalendar.Event]:
    response = client.get("/calendar/maintenance.ics")
    assert response.status_code == 200
    return list(icalendar.Calendar.from_ical(response.content).walk("VEVENT"))


def test_the_series_is_one_event_with_its_rule_and_cancelled_dates_excluded(client, staff):
    weekly(staff)
    occurrences = list(Maintenance.objects.order_by("starts_at"))
    actions.set_maintenance_status(occurrences[1], "cancelled", actor=staff, via="console")
    clear_public_cache()
    (event,) = feed(client)
    assert event["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=12;BYDAY=SU"
    start = event.decoded("DTSTART")
    assert start.isoformat() == "2026-11-29T02:00:00+08:00"
    rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=start)
    excluded = {d.dt for d in event["EXDATE"].dts}
    dates = [d for d in rule if d not in excluded]
    assert len(dates) == 11
    assert dates[:3] == [
        datetime(2026, 11, 29, 2, 0, tzinfo=start.tzinfo),
        datetime(2026, 12, 13, 2, 0, tzinfo=start.tzinfo),
        datetime(2026, 12, 20, 2, 0, tzinfo=start.tzinfo),
    ]


def test_a_moved_occurrence_is_an_override_with_its_recurrence_id(client, staff):
    weekly(staff)
    third = Maintenance.objects.order_by("starts_at")[2]
    actions.edit_maintenance(
        third,
        starts_at=third.starts_at + timedelta(hours=1),
        ends_at=third.ends_at + timedelta(hours=1),
        actor=staff,
        via="console",
    )
    clear_public_cache()
    master, override = feed(client)
    assert str(override["UID"]) == str(master["UID"])
    assert override.decoded("RECURRENCE-ID").isoformat() == "2026-12-13T02:00:00+08:00"
    assert override.decoded("DTSTART").astimezone(UTC) == third.starts_at + timedelta(hours=1)


def test_a_cancelled_series_is_marked_cancelled(client, staff):
    first = weekly(staff)
    cancel_series(first.series, actor=staff, via="console")
    clear_public_cache()
    (event,) = feed(client)
    assert str(event["STATUS"]) == "CANCELLED"


def test_the_public_page_shows_one_card_per_series_with_its_next_windows(client, staff):
    weekly(staff)
    clear_public_cache()
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert page.count("PBOC weekly window</a>") == 1
    assert "Repeats; the next windows after this one:" in page
    assert page.count('<time datetime="2026-12-') >= 4
