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
