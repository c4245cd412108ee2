from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from statuspage.public import uptime
from statuspage.public.uptime import DayTotals, IncidentRef

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai
TODAY = date(2026, 11, 29)


@pytest.fixture(autouse=True)
def shanghai():
    with timezone.override("Asia/Shanghai"):
        yield


def test_a_day_without_a_rollup_is_fully_up():
    segments = uptime.build_segments({}, now=NOW, days=90, tracked_since=date(2026, 1, 1))
    assert len(segments) == 90
    assert segments[0].day == TODAY - timedelta(days=89) and segments[-1].day == TODAY
    assert all(s.uptime == 100.0 and s.level == "operational" for s in segments)
    assert segments[-1].length_seconds == 12 * 3600  # today counts only the time so far
    assert uptime.uptime_percent(segments) == 100.0


def test_days_before_tracking_have_no_data_and_do_not_count():
    segments = uptime.build_segments(
        {TODAY: DayTotals("major_outage", major_seconds=4320)},
        now=NOW,
        days=90,
        tracked_since=TODAY,
    )
    assert segments[0].level == "nodata" and segments[0].uptime is None
    assert segments[-1].uptime == pytest.approx(90.0)
    assert uptime.uptime_percent(segments) == pytest.approx(90.0)


def test_partial_outage_counts_for_30_percent_and_degraded_not_at_all():
    day = TODAY - timedelta(days=1)
    segments = uptime.build_segments(
        {day: DayTotals("partial_outage", degraded_seconds=40000, partial_seconds=8640)},
        now=NOW,
        days=2,
        tracked_since=day,
    )
    assert segments[0].uptime == pytest.approx(97.0)
    assert segments[0].level == "partial_outage"
    assert not segments[0].is_long


def test_the_ongoing_outage_counts_before_the_rollup_is_written():
    since = NOW - timedelta(hours=14)  # 22:00 yesterday, Shanghai time
    segments = uptime.build_segments(
        {},
        now=NOW,
        days=3,
        tracked_since=TODAY - timedelta(days=10),
        current_status="major_outage",
        status_since=since,
        incidents_by_day={TODAY: [IncidentRef(1, "Down")]},
    )
    yesterday, today = segments[1], segments[2]
    assert yesterday.totals.major_seconds == 2 * 3600 and yesterday.level == "major_outage"
    assert today.totals.major_seconds == 12 * 3600 and today.uptime == 0.0
    assert today.is_long
    assert today.incidents == [IncidentRef(1, "Down")]
    assert segments[0].level == "operational"


def test_it_never_rounds_downtime_up_to_100_percent():
    assert uptime.format_percent(99.9999) == "99.99%"
    assert uptime.format_percent(100.0) == "100%"
    assert uptime.format_percent(None) == "—"


def test_it_groups_uptime_by_month_newest_first():
    segments = uptime.build_segments(
        {date(2026, 10, 31): DayTotals("major_outage", major_seconds=86400)},
        now=NOW,
        days=60,
        tracked_since=date(2026, 10, 15),
    )
    months = uptime.uptime_by_month(segments)
    assert [m.month for m in months] == [date(2026, 11, 1), date(2026, 10, 1)]
    assert months[1].uptime == pytest.approx(100 * 16 / 17)
    assert months[1].worst_status == "major_outage"
    assert months[0].uptime == 100.0


def test_the_bar_groups_quiet_days_and_keeps_every_other_day_apart():
    segments = uptime.build_segments(
        {
            date(2026, 11, 24): DayTotals("partial_outage", partial_seconds=600),
            date(2026, 11, 25): DayTotals("partial_outage", partial_seconds=600),
        },
        now=NOW,
        days=10,
        tracked_since=date(2026, 11, 22),
        incidents_by_day={date(2026, 11, 27): [IncidentRef(1, "Slow checks")]},
    )
    runs = uptime.bar_runs(segments)
    assert [[s.day.day for s in run] for run in runs] == [
        [20, 21],  # not tracked yet
        [22, 23],
        [24],
        [25],
        [26],
        [27],  # an incident, though fully up
        [28, 29],
    ]
    assert [run[0].is_quiet for run in runs] == [True, True, False, False, True, False, True]
    assert sum(len(run) for run in runs) == 10
