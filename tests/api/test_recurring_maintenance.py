"""Recurring maintenance: `recurrence` (an RFC 5545 RRULE) on POST /api/v1/maintenances. Each
occurrence is a maintenance of its own, created ahead by the horizon; one can be cancelled
alone, or the whole series."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from statuspage import actions
from statuspage.models import Maintenance, MaintenanceSeries
from statuspage.recurrence import extend_series
from statuspage.subscriptions.models import Notification
from statuspage.subscriptions.outbox import fan_out_events
from tests.api.conftest import field_errors

# A Friday, 10:00 in Shanghai.
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(settings):
    settings.RECURRENCE_HORIZON_DAYS = 35
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def weekly(api, rule="FREQ=WEEKLY;BYDAY=SU;COUNT=12", **fields):
    # Sunday 29 November, 02:00 to 04:00 in Shanghai: the credit bureau's window.
    body = {
        "name": "PBOC credit reference weekly window",
        "scheduled_for": "2026-11-29T02:00:00+08:00",
        "scheduled_until": "2026-11-29T04:00:00+08:00",
        "recurrence": rule,
        **fields,
    }
    return api.post("/maintenances", body)


def starts() -> list[str]:
    return [
        m.starts_at.astimezone(UTC).isoformat()
        for m in Maintenance.objects.order_by("starts_at")
        if m.status != "cancelled"
    ]


def test_a_weekly_rule_creates_the_occurrences_within_the_horizon(api, components):
    response = weekly(api, components=["credit-bureau"])
    assert response.status_code == 201, response.content
    first = response.json()
    assert first["recurrence"] == "FREQ=WEEKLY;BYDAY=SU;COUNT=12"
    assert first["scheduled_for"] == "2026-11-28T18:00:00Z"
    # 35 days ahead: five Sundays, each 02:00 Shanghai time.
    assert starts() == [
        f"2026-{d}T18:00:00+00:00" for d in ("11-28", "12-05", "12-12", "12-19", "12-26")
    ]
    assert all(m.components.get().slug == "credit-bureau" for m in Maintenance.objects.all())


@pytest.mark.parametrize("prefix", ["RRULE:", "rrule:", " Rrule:"])
def test_the_optional_rrule_prefix_is_dropped_in_any_case(api, prefix):
    response = weekly(api, rule=prefix + "FREQ=WEEKLY;BYDAY=SU;COUNT=12")
    assert response.status_code == 201, response.content
    assert response.json()["recurrence"] == "FREQ=WEEKLY;BYDAY=SU;COUNT=12"
    assert MaintenanceSeries.objects.get().recurrence == "FREQ=WEEKLY;BYDAY=SU;COUNT=12"


def test_subscribers_hear_about_the_series_once(api):
    weekly(api)
    fan_out_events(10**9, NOW)
    assert Notification.objects.filter(kind="maintenance_scheduled").count() == 1


def test_the_beat_extends_the_series_and_stops_at_its_count(api, clock):
    weekly(api, rule="FREQ=WEEKLY;BYDAY=SU;COUNT=7")
    clock.shift(timedelta(days=21))
    extend_series(datetime.now(UTC))
    assert Maintenance.objects.count() == 7
    clock.shift(timedelta(days=60))
    extend_series(datetime.now(UTC))
    assert Maintenance.objects.count() == 7


def test_an_occurrence_starts_and_completes_like_any_window(api, clock):
    weekly(api)
    first = Maintenance.objects.order_by("starts_at").first()
    clock.move_to(first.starts_at + timedelta(minutes=1))
    actions.advance_maintenances()
    first.refresh_from_db()
    assert first.status == "in_progress"
    clock.move_to(first.ends_at + timedelta(minutes=1))
    actions.advance_maintenances()
    first.refresh_from_db()
    assert first.status == "completed"


def test_cancelling_one_occurrence_keeps_the_others_and_it_is_not_created_again(api, clock):
    weekly(api)
    second = Maintenance.objects.order_by("starts_at")[1]
    assert api.post(f"/maintenances/{second.pk}/cancel").status_code == 200
    extend_series(datetime.now(UTC))
    assert Maintenance.objects.filter(occurrence_start=second.occurrence_start).count() == 1
    assert len(starts()) == 4


def test_cancelling_the_series_cancels_future_windows_and_stops_it(api, clock):
    first_id = weekly(api).json()["id"]
    response = api.post(f"/maintenances/{first_id}/cancel-series")
    assert response.status_code == 200, response.content
    assert starts() == []
    assert MaintenanceSeries.objects.get().cancelled_at is not None
    clock.shift(timedelta(days=30))
    extend_series(datetime.now(UTC))
    assert starts() == []


def test_cancel_series_on_a_single_window_is_a_400(api):
    one = api.post(
        "/maintenances",
        {
            "name": "Once",
            "scheduled_for": "2026-11-30T01:00:00Z",
            "scheduled_until": "2026-11-30T02:00:00Z",
        },
    ).json()
    response = api.post(f"/maintenances/{one['id']}/cancel-series")
    # About the maintenance's state, not a field the request sent: no field (see api/errors.py).
    assert response.status_code == 400
    assert field_errors(response) == {None: "This maintenance does not recur."}


@pytest.mark.parametrize(
    "rule, reason",
    [
        ("", "required"),
        ("FREQ=SOMETIMES", "Not a valid RFC 5545 RRULE"),
        ("FREQ=WEEKLY;BYDAY=XX", "Not a valid RFC 5545 RRULE"),
        ("FREQ=HOURLY", "DAILY, WEEKLY, MONTHLY or YEARLY"),
        ("FREQ=DAILY;COUNT=0", "no occurrence"),
        ("FREQ=DAILY;BYHOUR=2,3", "overlap"),
        ("FREQ=WEEKLY;UNTIL=20261101T000000Z", "no occurrence"),
    ],
)
def test_an_invalid_rule_is_a_400_with_the_reason(api, rule, reason):
    response = weekly(api, rule=rule)
    assert response.status_code == 400, response.content
    errors = field_errors(response)
    assert "recurrence" in errors and reason in errors["recurrence"], errors
    assert not Maintenance.objects.exists() and not MaintenanceSeries.objects.exists()


def test_a_series_whose_occurrences_are_all_over_is_refused(api):
    response = weekly(
        api,
        rule="FREQ=DAILY;COUNT=2",
        scheduled_for="2026-11-20T02:00:00+08:00",
        scheduled_until="2026-11-20T04:00:00+08:00",
    )
    assert response.status_code == 400
    assert "already over" in field_errors(response)["recurrence"]
    assert not MaintenanceSeries.objects.exists()


# --- editing the whole series -------------------------------------------------------------------


def occurrences() -> list[tuple[str, str, str, int]]:
    """(start in UTC, status, title, minutes) of every occurrence, in order."""
    return [
        (
            m.starts_at.astimezone(UTC).strftime("%m-%d %H:%M"),
            m.status,
            m.title,
            int((m.ends_at - m.starts_at).total_seconds() // 60),
        )
        for m in Maintenance.objects.order_by("starts_at")
    ]


def test_editing_the_series_changes_its_windows_not_yet_started(api, clock, components):
    first_id = weekly(api).json()["id"]
    third = Maintenance.objects.order_by("starts_at")[2]
    api.post(f"/maintenances/{third.pk}/cancel")
    # The first window has started: it is history now.
    clock.move_to(datetime(2026, 11, 28, 18, 30, tzinfo=UTC))
    actions.advance_maintenances()
    response = api.patch(
        f"/maintenances/{first_id}/series",
        {
            "name": "Bureau window (longer)",
            "duration_minutes": 180,
            "components": ["credit-bureau"],
        },
    )
    assert response.status_code == 200, response.content
    assert occurrences() == [
        ("11-28 18:00", "in_progress", "PBOC credit reference weekly window", 120),
        ("12-05 18:00", "scheduled", "Bureau window (longer)", 180),
        ("12-12 18:00", "cancelled", "PBOC credit reference weekly window", 120),
        ("12-19 18:00", "scheduled", "Bureau window (longer)", 180),
        ("12-26 18:00", "scheduled", "Bureau window (longer)", 180),
        # The horizon moved with the clock: the edit created the next week as well.
        ("01-02 18:00", "scheduled", "Bureau window (longer)", 180),
    ]
    upcoming = Maintenance.objects.filter(status="scheduled")
    assert {m.components.get().slug for m in upcoming} == {"credit-bureau"}
    # The windows the beat creates later follow the series too.
    clock.shift(timedelta(days=7))
    extend_series(datetime.now(UTC))
    assert occurrences()[-1] == ("01-09 18:00", "scheduled", "Bureau window (longer)", 180)


def test_a_new_rule_cancels_the_windows_it_no_longer_gives_and_creates_its_own(api):
    first_id = weekly(api).json()["id"]
    response = api.patch(
        f"/maintenances/{first_id}/series", {"recurrence": "FREQ=WEEKLY;INTERVAL=2"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["recurrence"] == "FREQ=WEEKLY;INTERVAL=2"
    assert starts() == [f"2026-{d}T18:00:00+00:00" for d in ("11-28", "12-12", "12-26")]
    # The dropped weeks are cancelled quietly, not deleted: they were announced.
    assert Maintenance.objects.filter(status="cancelled").count() == 2


def test_editing_the_series_is_audited(api):
    from statuspage.models import AuditEntry

    first_id = weekly(api).json()["id"]
    api.patch(f"/maintenances/{first_id}/series", {"recurrence": "FREQ=WEEKLY;BYDAY=SU;COUNT=3"})
    entry = AuditEntry.objects.get(action="maintenance_series.edit")
    assert entry.via == "api"
    assert entry.before["recurrence"] == "FREQ=WEEKLY;BYDAY=SU;COUNT=12"
    assert entry.after["recurrence"] == "FREQ=WEEKLY;BYDAY=SU;COUNT=3"


@pytest.mark.parametrize(
    "body, field, reason",
    [
        ({"recurrence": "FREQ=SOMETIMES"}, "recurrence", "Not a valid RFC 5545 RRULE"),
        ({"recurrence": "FREQ=DAILY;BYHOUR=2,3"}, "recurrence", "overlap"),
        ({"duration_minutes": 60 * 24 * 8}, "duration_minutes", "less than or equal"),
        (
            {"duration_minutes": 60 * 24 * 7 + 0, "recurrence": "FREQ=DAILY"},
            "recurrence",
            "overlap",
        ),
        ({"name": ""}, "name", "at least 1"),
    ],
)
def test_an_invalid_series_edit_is_a_400_with_the_reason_and_changes_nothing(
    api, body, field, reason
):
    first_id = weekly(api).json()["id"]
    before = occurrences()
    response = api.patch(f"/maintenances/{first_id}/series", body)
    assert response.status_code == 400, response.content
    errors = field_errors(response)
    assert field in errors and reason in errors[field], errors
    assert occurrences() == before


def test_editing_the_series_of_a_single_window_is_a_400(api):
    one = api.post(
        "/maintenances",
        {
            "name": "Once",
            "scheduled_for": "2026-11-30T01:00:00Z",
            "scheduled_until": "2026-11-30T02:00:00Z",
        },
    ).json()
    response = api.patch(f"/maintenances/{one['id']}/series", {"name": "x"})
    assert response.status_code == 400
    assert field_errors(response) == {None: "This maintenance does not recur."}


def test_a_cancelled_series_cannot_be_edited(api):
    first_id = weekly(api).json()["id"]
    api.post(f"/maintenances/{first_id}/cancel-series")
    response = api.patch(f"/maintenances/{first_id}/series", {"name": "Back"})
    assert response.status_code == 400
    assert not Maintenance.objects.filter(status="scheduled").exists()


def test_an_endless_rule_is_accepted_at_once(api):
    # The rule is never walked to its end (an endless one has none).
    response = weekly(api, rule="FREQ=WEEKLY;INTERVAL=2")
    assert response.status_code == 201, response.content
    assert len(starts()) == 3
