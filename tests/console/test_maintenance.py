from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from statuspage import actions
from statuspage.models import AuditEntry, Event, Maintenance

VIA = AuditEntry.Via.CONSOLE
# 2026-12-01 10:00 in Asia/Shanghai, the site's default time zone.
NOW = datetime.fromisoformat("2026-12-01T02:00:00+00:00")


def window_form(**fields):
    data = {
        "title": "Core banking upgrade",
        "title_alt": "核心系统升级",
        "description": "Disbursements **paused**.",
        "starts_at": "2026-12-02T01:00",
        "ends_at": "2026-12-02T03:00",
        "auto_start": "on",
        "auto_complete": "on",
        "is_public": "on",
        "notify": "on",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def maintenance(staff, components):
    _, loans = components
    return actions.schedule_maintenance(
        title="Gateway patching",
        starts_at=NOW + timedelta(hours=1),
        ends_at=NOW + timedelta(hours=2),
        components=[loans],
        actor=staff,
        via=VIA,
        now=NOW,
    )


@time_machine.travel(NOW, tick=False)
def test_it_schedules_maintenance_in_the_sites_time_zone(staff_client, staff, components):
    bureau, _ = components
    response = staff_client.post(
        "/console/maintenance/create/", window_form(components=[bureau.pk])
    )
    maintenance = Maintenance.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/console/maintenance/{maintenance.pk}/"
    assert maintenance.starts_at == datetime.fromisoformat("2026-12-01T17:00:00+00:00")
    assert maintenance.ends_at == datetime.fromisoformat("2026-12-01T19:00:00+00:00")
    assert list(maintenance.components.all()) == [bureau]
    assert maintenance.title_alt == "核心系统升级"
    entry = AuditEntry.objects.get(action="maintenance.schedule")
    assert (entry.actor, entry.via) == (staff, VIA)
    assert Event.objects.get(maintenance=maintenance).kind == "maintenance_scheduled"


@time_machine.travel(NOW, tick=False)
def test_it_keeps_the_form_when_the_window_ends_before_it_starts(staff_client, components):
    bureau, _ = components
    response = staff_client.post(
        "/console/maintenance/create/",
        window_form(ends_at="2026-12-02T00:30", components=[bureau.pk]),
    )
    content = response.content.decode()
    assert response.status_code == 400
    assert "The window must end after it starts." in content
    assert 'value="Core banking upgrade"' in content
    assert 'value="2026-12-02T00:30"' in content
    assert "Disbursements **paused**.</textarea>" in content
    assert f'value="{bureau.pk}" id="id_maintenance_components_0" checked' in content
    assert not Maintenance.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_it_shows_the_actions_refusal_of_a_window_in_the_past(staff_client, db):
    response = staff_client.post(
        "/console/maintenance/create/",
        window_form(starts_at="2026-11-30T08:00", ends_at="2026-11-30T09:00"),
    )
    assert response.status_code == 400
    assert "The window is already over." in response.content.decode()
    assert not Maintenance.objects.exists()


def test_it_starts_verifies_and_completes_a_maintenance(
    staff_client, staff, maintenance, components
):
    _, loans = components
    url = f"/console/maintenance/{maintenance.pk}/status/"
    content = staff_client.get(f"/console/maintenance/{maintenance.pk}/").content.decode()
    assert 'value="in_progress">Start</button>' in content
    assert 'value="verifying"' not in content

    response = staff_client.post(
        url, {"status": "in_progress", "body": "Work has begun.", "notify": "on"}
    )
    assert response.status_code == 302
    loans.refresh_from_db()
    assert loans.status == "under_maintenance"

    assert staff_client.post(url, {"status": "verifying"}).status_code == 302
    assert staff_client.post(url, {"status": "completed", "body": "Done."}).status_code == 302
    maintenance.refresh_from_db()
    loans.refresh_from_db()
    assert maintenance.status == "completed"
    assert maintenance.completed_at is not None
    assert loans.status == "operational"
    actions_logged = list(
        AuditEntry.objects.filter(object_type="maintenance", actor=staff)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions_logged == [
        "maintenance.schedule",
        "maintenance.in_progress",
        "maintenance.verifying",
        "maintenance.completed",
    ]
    content = staff_client.get(f"/console/maintenance/{maintenance.pk}/").content.decode()
    assert "Work has begun." in content
    assert "Edit</a>" not in content
    assert f'action="/console/maintenance/{maintenance.pk}/status/"' not in content


def test_it_cancels_a_maintenance(staff_client, maintenance):
    response = staff_client.post(
        f"/console/maintenance/{maintenance.pk}/status/",
        {"status": "cancelled", "body": "Postponed."},
    )
    assert response.status_code == 302
    maintenance.refresh_from_db()
    assert maintenance.status == "cancelled"
    assert Event.objects.filter(maintenance=maintenance, kind="maintenance_cancelled").exists()


def test_it_refuses_a_transition_that_is_not_allowed(staff_client, maintenance):
    response = staff_client.post(
        f"/console/maintenance/{maintenance.pk}/status/",
        {"status": "verifying", "body": "Skip ahead"},
    )
    content = response.content.decode()
    assert response.status_code == 400
    assert "A maintenance that is scheduled cannot move to verifying." in content
    assert "Skip ahead</textarea>" in content
    assert Maintenance.objects.get(pk=maintenance.pk).status == "scheduled"


def test_it_edits_a_maintenance(staff_client, staff, maintenance, components):
    bureau, _ = components
    content = staff_client.get(f"/console/maintenance/{maintenance.pk}/edit/").content.decode()
    assert 'value="Gateway patching"' in content
    assert 'name="notify"' not in content
    starts = timezone.localtime(maintenance.starts_at)
    response = staff_client.post(
        f"/console/maintenance/{maintenance.pk}/save/",
        window_form(
            title="Gateway patching, part 1",
            starts_at=starts.strftime("%Y-%m-%dT%H:%M"),
            ends_at=(starts + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
            components=[bureau.pk],
            auto_complete=None,
            notify=None,
        ),
    )
    assert response.status_code == 302
    maintenance.refresh_from_db()
    assert maintenance.title == "Gateway patching, part 1"
    assert maintenance.ends_at - maintenance.starts_at == timedelta(hours=3)
    assert maintenance.auto_complete is False
    assert list(maintenance.components.all()) == [bureau]
    entry = AuditEntry.objects.get(action="maintenance.edit")
    assert entry.before["title"] == "Gateway patching"
    assert entry.after["auto_complete"] is False


def test_it_refuses_to_edit_a_completed_maintenance(staff_client, staff, maintenance):
    actions.set_maintenance_status(maintenance, "cancelled", actor=staff, via=VIA)
    response = staff_client.post(
        f"/console/maintenance/{maintenance.pk}/save/", window_form(title="Changed")
    )
    assert response.status_code == 400
    assert "A cancelled maintenance cannot be edited." in response.content.decode()
    assert Maintenance.objects.get(pk=maintenance.pk).title == "Gateway patching"


def test_it_adds_an_internal_note_to_a_maintenance(staff_client, staff, maintenance):
    response = staff_client.post(
        f"/console/maintenance/{maintenance.pk}/notes/", {"body": "Vendor confirmed."}
    )
    assert response.status_code == 302
    content = staff_client.get(f"/console/maintenance/{maintenance.pk}/").content.decode()
    assert "Vendor confirmed." in content
    assert 'class="entry note"' in content


def test_it_lists_active_maintenance_first(staff_client, staff, maintenance):
    later = actions.schedule_maintenance(
        title="Later work",
        starts_at=NOW + timedelta(days=30),
        ends_at=NOW + timedelta(days=30, hours=1),
        actor=staff,
        via=VIA,
        now=NOW,
    )
    actions.set_maintenance_status(maintenance, "in_progress", actor=staff, via=VIA)
    content = staff_client.get("/console/maintenance/").content.decode()
    assert content.index("Gateway patching") < content.index(later.title)


# --- recurring maintenance ----------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_staff_schedule_a_recurring_window_and_cancel_the_series(staff_client, staff):
    from statuspage.models import MaintenanceSeries

    response = staff_client.post(
        "/console/maintenance/create/",
        {
            "title": "Weekly bureau window",
            "starts_at": "2026-12-06T02:00",
            "ends_at": "2026-12-06T04:00",
            "auto_start": "on",
            "auto_complete": "on",
            "is_public": "on",
            "notify": "on",
            "recurrence": "FREQ=WEEKLY;COUNT=3",
        },
    )
    assert response.status_code == 302
    series = MaintenanceSeries.objects.get()
    assert series.occurrences.count() == 3
    first = series.occurrences.order_by("starts_at").first()
    page = staff_client.get(f"/console/maintenance/{first.pk}/").content.decode()
    assert "FREQ=WEEKLY;COUNT=3" in page and "Cancel the whole series" in page
    staff_client.post(f"/console/maintenance/{first.pk}/cancel-series/")
    assert set(series.occurrences.values_list("status", flat=True)) == {"cancelled"}


@time_machine.travel(NOW, tick=False)
def test_an_invalid_rule_is_shown_on_the_field(staff_client):
    response = staff_client.post(
        "/console/maintenance/create/",
        {
            "title": "x",
            "starts_at": "2026-12-06T02:00",
            "ends_at": "2026-12-06T04:00",
            "recurrence": "FREQ=HOURLY",
        },
    )
    assert response.status_code == 400
    assert "DAILY, WEEKLY, MONTHLY or YEARLY" in response.content.decode()


def schedule_weekly(staff_client, rule="FREQ=WEEKLY;COUNT=4"):
    from statuspage.models import MaintenanceSeries

    staff_client.post(
        "/console/maintenance/create/",
        {
            "title": "Weekly bureau window",
            "starts_at": "2026-12-06T02:00",
            "ends_at": "2026-12-06T04:00",
            "auto_start": "on",
            "auto_complete": "on",
            "is_public": "on",
            "recurrence": rule,
        },
    )
    series = MaintenanceSeries.objects.get()
    return series, list(series.occurrences.order_by("starts_at"))


def series_form(**fields):
    return {
        "title": "Bureau window",
        "duration_minutes": "180",
        "recurrence": "FREQ=WEEKLY;COUNT=4",
        "auto_start": "on",
        "auto_complete": "on",
        "is_public": "on",
        **fields,
    }


@time_machine.travel(NOW, tick=False)
def test_staff_edit_the_whole_series_from_an_occurrence(staff_client, staff):
    series, (first, second, *_) = schedule_weekly(staff_client)
    actions.set_maintenance_status(second, "cancelled", actor=staff, via=VIA)
    page = staff_client.get(f"/console/maintenance/{first.pk}/series/").content.decode()
    assert "FREQ=WEEKLY;COUNT=4" in page and "<strong>3</strong> windows not yet started" in page
    response = staff_client.post(f"/console/maintenance/{first.pk}/series/save/", series_form())
    assert response.status_code == 302
    rows = series.occurrences.order_by("starts_at")
    assert [(m.title, m.status, m.ends_at - m.starts_at) for m in rows] == [
        ("Bureau window", "scheduled", timedelta(hours=3)),
        ("Weekly bureau window", "cancelled", timedelta(hours=2)),
        ("Bureau window", "scheduled", timedelta(hours=3)),
        ("Bureau window", "scheduled", timedelta(hours=3)),
    ]
    entry = AuditEntry.objects.get(action="maintenance_series.edit")
    assert (entry.via, entry.after["duration_minutes"]) == ("console", 180)


@time_machine.travel(NOW, tick=False)
def test_a_series_from_the_config_file_says_so_where_it_is_edited(staff_client):
    series, (first, *_) = schedule_weekly(staff_client)
    page = staff_client.get(f"/console/maintenance/{first.pk}/series/").content.decode()
    assert "configuration file" not in page
    series.config_slug = "bureau-weekly"
    series.save(update_fields=["config_slug"])
    page = staff_client.get(f"/console/maintenance/{first.pk}/series/").content.decode()
    assert "comes from the configuration file" in page and "bureau-weekly" in page


@time_machine.travel(NOW, tick=False)
def test_an_invalid_series_rule_is_shown_on_the_field(staff_client):
    series, (first, *_) = schedule_weekly(staff_client)
    response = staff_client.post(
        f"/console/maintenance/{first.pk}/series/save/", series_form(recurrence="FREQ=MINUTELY")
    )
    assert response.status_code == 400
    assert "DAILY, WEEKLY, MONTHLY or YEARLY" in response.content.decode()
    assert set(series.occurrences.values_list("title", flat=True)) == {"Weekly bureau window"}


@time_machine.travel(NOW, tick=False)
def test_a_single_window_has_no_series_page(staff_client, maintenance):
    assert staff_client.get(f"/console/maintenance/{maintenance.pk}/series/").status_code == 404
    response = staff_client.post(
        f"/console/maintenance/{maintenance.pk}/series/save/", series_form()
    )
    assert response.status_code == 404
