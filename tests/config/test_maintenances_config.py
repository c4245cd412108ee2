"""`maintenances:` in the config file: recurring maintenance windows, one series per slug,
scheduled, edited and cancelled through statuspage.recurrence like the console does."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command

from statuspage.config_apply import apply_config
from statuspage.config_file import ConfigError, load_config, parse_config
from statuspage.models import AuditEntry, Maintenance, MaintenanceSeries, MaintenanceStatus
from statuspage.recurrence import schedule_recurring_maintenance

pytestmark = pytest.mark.django_db

# A Friday, 10:00 in Shanghai (the site's TIME_ZONE).
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)

COMPONENTS = """
components:
  - slug: credit-bureau-pboc
    name: PBOC credit reference
  - slug: credit-bureau-baihang
    name: Baihang credit
"""

WEEKLY = """
maintenances:
  - slug: credit-reference-weekly
    title: Credit reference weekly maintenance
    title_alt: 征信接口每周例行维护
    components: [credit-bureau-pboc]
    starts: "2026-11-29 02:00"
    duration: 2h
    recurrence: "FREQ=WEEKLY;BYDAY=SU"
"""


@pytest.fixture(autouse=True)
def clock(settings):
    settings.RECURRENCE_HORIZON_DAYS = 35
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def windows(status=MaintenanceStatus.SCHEDULED) -> list[tuple[str, str, str]]:
    """(start in UTC, end in UTC, title) of the windows with that status, in order."""
    return [
        (m.starts_at.astimezone(UTC).strftime("%m-%d %H:%M"), m.ends_at.strftime("%H:%M"), m.title)
        for m in Maintenance.objects.filter(status=status).order_by("starts_at")
    ]


def test_a_new_slug_schedules_a_series_with_its_windows_and_audits_it(config_file):
    plan = apply_config(load_config(config_file(COMPONENTS + WEEKLY)))
    assert "create maintenance credit-reference-weekly" in [str(c) for c in plan.changes]
    series = MaintenanceSeries.objects.get()
    assert series.config_slug == "credit-reference-weekly"
    assert series.title_alt == "征信接口每周例行维护"
    assert series.recurrence == "FREQ=WEEKLY;BYDAY=SU"
    assert series.duration == timedelta(hours=2)
    # 02:00 on Sundays in Shanghai is 18:00 UTC on Saturdays; 35 days ahead: five windows.
    assert [start for start, _, _ in windows()] == [
        "11-28 18:00",
        "12-05 18:00",
        "12-12 18:00",
        "12-19 18:00",
        "12-26 18:00",
    ]
    assert {m.components.get().slug for m in Maintenance.objects.all()} == {"credit-bureau-pboc"}
    entry = AuditEntry.objects.get(action="maintenance.create")
    assert entry.via == AuditEntry.Via.CONFIG and entry.actor_name == "config platform.yaml"
    assert entry.after["starts"] == "2026-11-29 02:00" and entry.after["duration_minutes"] == 120


def test_applying_the_same_file_again_changes_nothing_and_audits_nothing(config_file):
    config = load_config(config_file(COMPONENTS + WEEKLY))
    apply_config(config)
    entries = AuditEntry.objects.count()
    assert apply_config(config).changes == []
    assert AuditEntry.objects.count() == entries
    assert MaintenanceSeries.objects.count() == 1 and len(windows()) == 5


def test_a_changed_entry_edits_the_whole_series_from_now_on(config_file, clock):
    apply_config(load_config(config_file(COMPONENTS + WEEKLY)))
    series = MaintenanceSeries.objects.get()
    # The first window has started by the time the file changes: it is history.
    inside_the_first = datetime(2026, 11, 28, 19, 0, tzinfo=UTC)
    clock.move_to(inside_the_first)
    changed = (
        WEEKLY.replace("Credit reference weekly", "PBOC weekly")
        .replace("duration: 2h", "duration: 3h")
        .replace("[credit-bureau-pboc]", "[credit-bureau-pboc, credit-bureau-baihang]")
    )
    plan = apply_config(load_config(config_file(COMPONENTS + changed)))
    (change,) = plan.changes
    assert str(change).startswith("update maintenance credit-reference-weekly (")
    assert MaintenanceSeries.objects.get() == series
    later = Maintenance.objects.filter(starts_at__gt=inside_the_first).order_by("starts_at")
    # Four windows left, and the one the horizon reaches now (created with the new values).
    assert [m.title for m in later] == ["PBOC weekly maintenance"] * 5
    assert all(m.ends_at - m.starts_at == timedelta(hours=3) for m in later)
    assert all(m.components.count() == 2 for m in later)
    first = Maintenance.objects.order_by("starts_at").first()
    assert first.title == "Credit reference weekly maintenance"
    assert first.ends_at - first.starts_at == timedelta(hours=2)
    assert AuditEntry.objects.filter(action="maintenance.update", via="config").count() == 1


def test_a_changed_rule_cancels_the_windows_it_no_longer_gives(config_file):
    apply_config(load_config(config_file(COMPONENTS + WEEKLY)))
    fortnightly = WEEKLY.replace("FREQ=WEEKLY;BYDAY=SU", "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU")
    apply_config(load_config(config_file(COMPONENTS + fortnightly)))
    assert [start for start, _, _ in windows()] == ["11-28 18:00", "12-12 18:00", "12-26 18:00"]
    assert [start for start, _, _ in windows(MaintenanceStatus.CANCELLED)] == [
        "12-05 18:00",
        "12-19 18:00",
    ]


def test_a_new_start_replaces_the_series(config_file):
    apply_config(load_config(config_file(COMPONENTS + WEEKLY)))
    old = MaintenanceSeries.objects.get()
    moved = WEEKLY.replace("2026-11-29 02:00", "2026-11-29 03:30")
    apply_config(load_config(config_file(COMPONENTS + moved)))
    old.refresh_from_db()
    assert old.cancelled_at is not None
    new = MaintenanceSeries.objects.get(cancelled_at__isnull=True)
    assert new.config_slug == "credit-reference-weekly"
    assert [start for start, _, _ in windows()][:2] == ["11-28 19:30", "12-05 19:30"]
    assert apply_config(load_config(config_file(COMPONENTS + moved))).changes == []


def test_a_removed_entry_is_listed_and_cancelled_only_with_prune(config_file):
    apply_config(load_config(config_file(COMPONENTS + WEEKLY)))
    console_made = schedule_recurring_maintenance(
        recurrence="FREQ=MONTHLY",
        title="Data centre power test",
        starts_at=NOW + timedelta(days=3),
        ends_at=NOW + timedelta(days=3, hours=1),
        actor=None,
        via=AuditEntry.Via.CONSOLE,
    ).series
    without = load_config(config_file(COMPONENTS))

    plan = apply_config(without)
    assert plan.changes == []
    assert [str(c) for c in plan.leftovers] == ["cancel maintenance credit-reference-weekly"]
    assert len(windows()) == 5 + 2

    apply_config(without, prune=True)
    series = MaintenanceSeries.objects.get(config_slug="credit-reference-weekly")
    assert series.cancelled_at is not None
    assert [title for _, _, title in windows()] == ["Data centre power test"] * 2
    assert len(windows(MaintenanceStatus.CANCELLED)) == 5
    console_made.refresh_from_db()
    assert console_made.cancelled_at is None
    assert AuditEntry.objects.filter(action="maintenance.cancel", via="config").count() == 1
    # Cancelled, it is no longer the file's: nothing left to do.
    assert apply_config(without, prune=True).changes == []


def test_a_rule_the_clock_has_emptied_is_an_error_on_its_line_and_nothing_is_applied(
    config_file,
):
    past = WEEKLY.replace("2026-11-29", "2026-10-04").replace('SU"', 'SU;COUNT=2"')
    path = config_file(COMPONENTS + past)
    with pytest.raises(CommandError, match=r"platform.yaml:8: maintenance 'credit-reference"):
        call_command("apply_config", str(path), stdout=StringIO())
    assert not MaintenanceSeries.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    "replace, by, line, reason",
    [
        (
            '"FREQ=WEEKLY;BYDAY=SU"',
            '"FREQ=WEEKLY;BYDAY=XX"',
            14,
            "maintenance 'credit-reference-weekly': recurrence: Not a valid RFC 5545 RRULE",
        ),
        (
            '"FREQ=WEEKLY;BYDAY=SU"',
            '"FREQ=HOURLY"',
            14,
            "recurrence: FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY",
        ),
        (
            "duration: 2h",
            "duration: 9d",
            14,
            "recurrence: Occurrences would overlap",
        ),
        (
            "[credit-bureau-pboc]",
            "[credit-bureau-pboc, credit-bureau-equifax]",
            11,
            "maintenance 'credit-reference-weekly': unknown component 'credit-bureau-equifax'",
        ),
        ('"2026-11-29 02:00"', '"29/11/2026 2am"', 12, 'starts: expected a time such as "2026-'),
        ('"2026-11-29 02:00"', '"2026-11-29 02:00+08:00"', 12, "without an offset"),
        ("duration: 2h", "duration: 0", 13, "duration: must be at least 60s"),
        ("duration: 2h", "duration: -1h", 13, "duration: expected a duration such as 30s"),
        ("duration: 2h", "duration: 90s", 13, "duration: use whole minutes"),
        ("title_alt:", "title_zh:", 10, "unknown key 'title_zh' (expected: components, descr"),
        ("    duration: 2h\n", "", 8, "missing required key 'duration'"),
    ],
)
def test_an_invalid_entry_is_an_error_on_its_line_and_rejects_the_whole_file(
    config_file, replace, by, line, reason
):
    text = COMPONENTS + WEEKLY.replace(replace, by)
    with pytest.raises(ConfigError) as raised:
        load_config(config_file(text))
    (problem,) = raised.value.problems
    assert problem.line == line and reason in problem.message, str(problem)


def test_a_slug_given_twice_is_an_error_on_the_second_one():
    entry = WEEKLY.split("maintenances:\n")[1]
    with pytest.raises(ConfigError, match=r"<config>:14: maintenance 'credit-reference-weekly': "):
        parse_config(COMPONENTS.strip() + "\n" + WEEKLY.strip() + "\n" + entry)


def test_an_unquoted_time_with_seconds_is_read_as_written():
    text = COMPONENTS + WEEKLY.replace('"2026-11-29 02:00"', "2026-11-29 02:00:00")
    (spec,) = parse_config(text).maintenances
    assert spec.fields["starts"] == "2026-11-29 02:00"
