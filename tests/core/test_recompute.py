"""Stored statuses, their history rows and the daily rollups the uptime bars are drawn from."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from statuspage.changes import public_change
from statuspage.models import Component, ComponentDay, ComponentStatusChange, SiteState

SHANGHAI = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


def recompute_statuses(at: datetime) -> list:
    """A public change that writes nothing itself: the statuses catch up with their inputs."""
    with public_change(at, changed=False) as change:
        pass
    return change.status_changes


def set_auto(component: Component, status: str, at: datetime) -> None:
    Component.objects.filter(pk=component.pk).update(auto_status=status)
    recompute_statuses(at)


def test_a_change_writes_one_history_row_and_bumps_the_version(make_component):
    bureau = make_component("bureau", status_since=datetime(2026, 11, 1, tzinfo=SHANGHAI))
    version = SiteState.current().version
    at = datetime(2026, 11, 29, 9, 0, tzinfo=SHANGHAI)

    changes = recompute_statuses(at)
    assert changes == []
    assert SiteState.current().version == version

    set_auto(bureau, "major_outage", at)
    row = ComponentStatusChange.objects.get()
    assert (row.old_status, row.new_status, row.at) == ("operational", "major_outage", at)
    assert SiteState.current().version == version + 1


def test_outage_time_is_split_across_local_days(make_component):
    start = datetime(2026, 11, 28, 23, 0, tzinfo=SHANGHAI)
    bureau = make_component("bureau", status_since=start)
    set_auto(bureau, "major_outage", start)
    set_auto(bureau, "operational", start + timedelta(hours=3))  # 02:00 the next day

    days = {d.day: d for d in ComponentDay.objects.filter(component=bureau)}
    assert days[date(2026, 11, 28)].major_seconds == 3600
    assert days[date(2026, 11, 29)].major_seconds == 7200
    assert days[date(2026, 11, 28)].worst_status == "major_outage"
    assert days[date(2026, 11, 29)].worst_status == "major_outage"


def test_the_worst_status_of_a_day_is_kept(make_component):
    at = datetime(2026, 11, 29, 8, 0, tzinfo=SHANGHAI)
    bureau = make_component("bureau", status_since=at)
    set_auto(bureau, "major_outage", at)
    set_auto(bureau, "degraded_performance", at + timedelta(minutes=10))
    set_auto(bureau, "operational", at + timedelta(minutes=40))

    day = ComponentDay.objects.get(component=bureau)
    assert (day.worst_status, day.major_seconds, day.degraded_seconds) == (
        "major_outage",
        600,
        1800,
    )


def test_a_dependent_gets_the_root_cause_and_loses_it_on_recovery(make_component):
    at = datetime(2026, 11, 29, 8, 0, tzinfo=SHANGHAI)
    bureau = make_component("bureau")
    loan = make_component("loan", depends_on=[bureau])
    set_auto(bureau, "partial_outage", at)
    loan.refresh_from_db()
    assert (loan.status, loan.status_cause) == ("degraded_performance", bureau)

    set_auto(bureau, "operational", at + timedelta(minutes=5))
    loan.refresh_from_db()
    assert (loan.status, loan.status_cause) == ("operational", None)
