import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from monitors.latency import LATENCY_BUCKETS_MS, bucket_index, histogram_percentile
from monitors.models import ProbeResult, ProbeRollup
from monitors.results import RunResult
from monitors.rollups import add_to_rollups, component_uptime, daily_history, purge_old_results
from statuspage import actions
from statuspage.models import AuditEntry, ComponentDay

from .conftest import bad, feed, good

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "latency, index", [(0, 0), (10, 0), (10.5, 1), (99, 3), (100, 3), (10000, 12), (10001, 13)]
)
def test_a_latency_falls_in_the_bucket_of_its_upper_bound(latency, index):
    assert bucket_index(latency) == index


def test_percentiles_from_the_histogram_are_within_their_bucket():
    rng = random.Random(7)
    values = [rng.lognormvariate(5, 0.6) for _ in range(5000)]  # about 150 ms, long tail
    histogram = [0] * (len(LATENCY_BUCKETS_MS) + 1)
    for value in values:
        histogram[bucket_index(value)] += 1
    ordered = sorted(values)
    for fraction in (0.5, 0.95):
        exact = ordered[int(fraction * len(ordered)) - 1]
        estimate = histogram_percentile(histogram, fraction, max(values))
        index = bucket_index(exact)
        lower = LATENCY_BUCKETS_MS[index - 1] if index else 0
        upper = LATENCY_BUCKETS_MS[index] if index < len(LATENCY_BUCKETS_MS) else max(values)
        assert lower <= estimate <= upper
        assert abs(estimate - exact) / exact < 0.25


def test_a_percentile_never_exceeds_the_largest_value_seen():
    histogram = [0] * (len(LATENCY_BUCKETS_MS) + 1)
    histogram[bucket_index(120)] = 3
    assert histogram_percentile(histogram, 0.95, maximum=120) <= 120
    assert histogram_percentile([0] * len(histogram), 0.5) is None


def test_results_are_counted_in_hourly_and_daily_rollups(clock, make_probe):
    probe = make_probe()
    for latency in (20, 40, 60, 80, 900):
        feed(probe, "local", good(latency), clock)
    feed(probe, "local", bad(), clock)
    hour = ProbeRollup.objects.get(period="hour")
    day = ProbeRollup.objects.get(period="day")
    for rollup in (hour, day):
        assert (rollup.checks, rollup.failures, rollup.latency_max_ms) == (6, 1, 900)
        assert 25 <= rollup.p50 <= 50
        assert 800 <= rollup.p95 <= 900


def test_a_result_without_latency_is_counted_but_leaves_the_latency_figures(clock, make_probe):
    probe = make_probe()
    feed(probe, "local", RunResult.from_error("ConnectionRefusedError: refused"), clock)
    feed(probe, "local", good(120), clock)
    feed(probe, "local", RunResult.from_error("ConnectionRefusedError: refused"), clock)
    for rollup in ProbeRollup.objects.all():
        assert (rollup.checks, rollup.failures, rollup.latency_count) == (3, 2, 1)
        assert (rollup.latency_max_ms, rollup.latency_sum_ms) == (120, 120)
        assert sum(rollup.histogram) == rollup.histogram[bucket_index(120)] == 1


def test_rollups_of_the_same_slot_add_up_from_several_vantage_points(clock, make_probe):
    probe = make_probe(vantage_points=["shanghai", "shenzhen"])
    for latency in (5, 30, 30, 3000):
        feed(probe, "shanghai", good(latency), clock, step=0)
        feed(probe, "shenzhen", good(latency * 2), clock)
    shanghai = ProbeRollup.objects.get(period="hour", vantage_point="shanghai")
    assert shanghai.histogram[bucket_index(30)] == 2
    assert (shanghai.checks, shanghai.latency_max_ms, shanghai.latency_sum_ms) == (4, 3000, 3065)
    assert ProbeRollup.objects.get(period="day", vantage_point="shenzhen").latency_max_ms == 6000


def test_each_rollup_update_costs_the_same_whatever_the_history(clock, make_probe):
    probe = make_probe()
    now = clock.now()
    add_to_rollups(probe.pk, "local", now, True, 10.0, 0)
    with CaptureQueriesContext(connection) as first:
        add_to_rollups(probe.pk, "local", now, True, 10.0, 0)
    for _ in range(50):
        add_to_rollups(probe.pk, "local", now, True, 10.0, 0)
    with CaptureQueriesContext(connection) as later:
        add_to_rollups(probe.pk, "local", now, True, 10.0, 0)
    assert len(first) == len(later) == 1  # one upsert of both rows


def test_the_90_day_history_reads_only_daily_rollups(clock, make_probe):
    probe = make_probe()
    feed(probe, "local", good(30), clock)
    feed(probe, "local", bad(), clock)
    clock.shift(86400 * 3)
    feed(probe, "local", good(50), clock)
    history = daily_history([probe.pk], 90, clock.now())
    assert len(history) == 90
    assert history[-1].checks == 1 and history[-4].checks == 2 and history[-4].failures == 1
    assert sum(day.checks for day in history) == 3


@override_settings(RESULT_RETENTION_DAYS=14)
def test_old_results_are_purged_in_batches(clock, make_probe):
    probe = make_probe()
    now = clock.now()
    rows = [
        ProbeResult(
            probe=probe,
            vantage_point="local",
            scheduled_at=now - timedelta(days=days, seconds=i),
            checked_at=now - timedelta(days=days, seconds=i),
            ok=True,
        )
        for days in (20, 15, 13)
        for i in range(5)
    ]
    ProbeResult.objects.bulk_create(rows)
    with CaptureQueriesContext(connection) as queries:
        assert purge_old_results(now, batch_size=3) == 10
    deletes = [q for q in queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 4  # 3 + 3 + 3 + 1
    assert ProbeResult.objects.count() == 5
    assert ProbeRollup.objects.count() == 0  # rollups are not derived from raw rows


def test_uptime_is_computed_with_and_without_announced_maintenance(clock, make_component, staff):
    component = make_component("disbursement")
    today = clock.now()
    day = timezone.localtime(today).date()
    ComponentDay.objects.create(
        component=component,
        day=day - timedelta(days=1),
        major_seconds=3600,
        maintenance_seconds=7200,
    )
    uptime = component_uptime(component, 2, today)
    period = uptime.period_seconds
    assert uptime.down_seconds == 3600 and uptime.maintenance_seconds == 7200
    assert uptime.with_maintenance == pytest.approx(100 * (1 - 10800 / period), abs=1e-3)
    assert uptime.without_maintenance == pytest.approx(100 * (1 - 3600 / (period - 7200)), abs=1e-3)
    assert uptime.without_maintenance > uptime.with_maintenance


def test_uptime_includes_the_ongoing_outage(clock, make_component, staff):
    component = make_component("disbursement")
    actions.set_component_status(
        component, "major_outage", actor=staff, via=AuditEntry.Via.CONSOLE, now=clock.now()
    )
    clock.shift(600)
    component.refresh_from_db()
    uptime = component_uptime(component, 1, clock.now())
    assert uptime.down_seconds == pytest.approx(600)


def test_uptime_counts_a_partial_outage_as_the_public_page_does(clock, make_component, staff):
    from statuspage.public.uptime import DayTotals

    component = make_component("disbursement")
    day = timezone.localtime(clock.now()).date() - timedelta(days=1)
    ComponentDay.objects.create(
        component=component, day=day, partial_seconds=1000, major_seconds=100
    )
    actions.set_component_status(
        component, "partial_outage", actor=staff, via=AuditEntry.Via.CONSOLE, now=clock.now()
    )
    clock.shift(600)
    component.refresh_from_db()
    uptime = component_uptime(component, 2, clock.now())
    # 30 % of the partial outage is downtime, yesterday's and the one going on now alike.
    assert uptime.down_seconds == pytest.approx(0.3 * 1000 + 100 + 0.3 * 600)
    public = DayTotals(partial_seconds=1000, major_seconds=100)
    assert public.downtime_seconds == pytest.approx(0.3 * 1000 + 100)


def test_degraded_performance_is_not_downtime(clock, make_component):
    component = make_component("disbursement")
    day = timezone.localtime(clock.now()).date()
    ComponentDay.objects.create(component=component, day=day, degraded_seconds=3600)
    assert component_uptime(component, 1, clock.now()).down_seconds == 0
