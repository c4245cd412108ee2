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


def expanded_in_utc(client) -> list[datetime]:
    """The series' dates as a calendar app computes them: the rule over DTSTART's wall-clock
    time, turned into instants by the feed's own VTIMEZONE (not the system's zone database)."""
    calendar = icalendar.Calendar.from_ical(client.get("/calendar/maintenance.ics").content)
    (vtimezone,) = calendar.walk("VTIMEZONE")
    (event,) = calendar.walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == str(vtimezone["TZID"])
    wall_clock = event.decoded("DTSTART").replace(tzinfo=None)
    zone = vtimezone.to_tz()
    rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=wall_clock)
    return [moment.replace(tzinfo=zone).astimezone(UTC) for moment in rule]


def test_a_weekly_rule_keeps_its_wall_clock_time_across_daylight_saving(client, staff, settings):
    settings.TIME_ZONE = "America/New_York"
    with time_machine.travel(datetime(2026, 10, 20, tzinfo=UTC), tick=False):
        # Sundays at 09:00 in New York; the clocks go back on Sunday 1 November.
        schedule_recurring_maintenance(
            recurrence="FREQ=WEEKLY;COUNT=4",
            title="Weekly window",
            starts_at=datetime(2026, 10, 25, 13, 0, tzinfo=UTC),
            ends_at=datetime(2026, 10, 25, 14, 0, tzinfo=UTC),
            actor=staff,
            via=AuditEntry.Via.CONSOLE,
        )
        clear_public_cache()
        expanded = expanded_in_utc(client)
    stored = [m.starts_at for m in Maintenance.objects.order_by("starts_at")]
    assert [moment.strftime("%m-%d %H:%M") for moment in stored] == [
        "10-25 13:00",  # 09:00 EDT
        "11-01 14:00",  # 09:00 EST
        "11-08 14:00",
        "11-15 14:00",
    ]
    assert expanded == stored
    calendar = client.get("/calendar/maintenance.ics").content.decode()
    assert "BEGIN:DAYLIGHT" in calendar and "BEGIN:STANDARD" in calendar


def test_the_platform_zone_has_a_vtimezone_without_daylight_saving(client, staff):
    weekly(staff, rule="FREQ=WEEKLY;BYDAY=SU;COUNT=4")
    clear_public_cache()
    expanded = expanded_in_utc(client)
    assert expanded == [m.starts_at for m in Maintenance.objects.order_by("starts_at")]
    calendar = client.get("/calendar/maintenance.ics").content.decode()
    assert "TZID:Asia/Shanghai" in calendar and "TZOFFSETTO:+0800" in calendar
    assert "BEGIN:DAYLIGHT" not in calendar


def test_after_a_new_rule_the_feed_gives_the_new_dates_only(client, staff):
    from statuspage.recurrence import edit_series

    first = weekly(staff, rule="FREQ=WEEKLY;BYDAY=SU;COUNT=4")
    rule = "FREQ=WEEKLY;BYDAY=SU;INTERVAL=2;COUNT=2"
    edit_series(first.series, recurrence=rule, actor=staff, via="console")
    clear_public_cache()
    (event,) = feed(client)
    assert "EXDATE" not in event  # the weeks the rule dropped are not in it to exclude
    kept = Maintenance.objects.exclude(status="cancelled").order_by("starts_at")
    assert expanded_in_utc(client) == [m.starts_at for m in kept]


def test_the_card_gives_the_next_dates_once_the_time_is_the_same(client, staff):
    weekly(staff, rule="FREQ=WEEKLY;BYDAY=SU;COUNT=3")
    clear_public_cache()
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">6 Dec 2026</time>, <time " in page
    assert ">13 Dec 2026</time>, at the same time." in page
    # A window moved to another hour: each is written in full again.
    third = Maintenance.objects.order_by("starts_at")[2]
    hour = timedelta(hours=1)
    window = {"starts_at": third.starts_at + hour, "ends_at": third.ends_at + hour}
    actions.edit_maintenance(third, actor=staff, via="console", **window)
    clear_public_cache()
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "at the same time" not in page
    assert "13 Dec 2026, 03:00 (UTC+08:00)" in page


def test_an_occurrences_page_lists_the_next_windows(client, staff):
    first = weekly(staff, rule="FREQ=WEEKLY;BYDAY=SU;COUNT=3")
    clear_public_cache()
    page = client.get(f"/maintenance/{first.pk}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<dt>Next windows</dt>" in page
    assert ">6 Dec 2026</time>, <time " in page and ">13 Dec 2026</time>, at the same time." in page
    last = Maintenance.objects.order_by("starts_at").last()
    page = client.get(f"/maintenance/{last.pk}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Next windows" not in page
