"""Concurrent recorders: run against PostgreSQL with
DATABASE_URL=postgres://postgres@127.0.0.1:5432/sp_monitors (SQLite serialises writers)."""

import threading

import pytest
from django.db import connection, connections

from monitors.models import ProbeResult, ProbeRollup, ProbeState
from monitors.recorder import record_result
from statuspage.celery import app
from statuspage.models import Incident

from .conftest import bad

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_broker():
    """Committed transactions hand events to Celery: run those in-process, not on a broker."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def together(*calls):
    """Run the calls at the same moment, each in its own thread and database connection."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as exc:  # reported by the assertion below
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_two_recorders_of_the_same_run_count_it_once(clock, make_probe):
    probe = make_probe()
    now = clock.now()
    for _ in range(5):
        outcomes = together(
            *[lambda at=now: record_result(probe, "local", bad(), now=at, scheduled_at=at)] * 2
        )
        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        assert sum(1 for o in outcomes if o is not None) == 1
        now = now.replace(microsecond=now.microsecond + 1000)
    assert ProbeResult.objects.count() == 5
    assert ProbeRollup.objects.get(period="hour").checks == 5
    assert ProbeState.objects.get().consecutive_failures == 5


def test_vantage_points_confirming_at_the_same_moment_open_one_incident(
    clock, make_probe, make_component
):
    probes = [
        make_probe(make_component(f"bureau-{i}"), vantage_points=["sh", "sz"]) for i in range(3)
    ]
    for _ in range(3):
        now = clock.now()
        calls = [
            (lambda p=p, vp=vp, at=now: record_result(p, vp, bad(), now=at, scheduled_at=at))
            for p in probes
            for vp in ("sh", "sz")
        ]
        outcomes = together(*calls)
        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        clock.shift(10)
    assert Incident.objects.filter(resolved_at__isnull=True).count() == 3
    assert sorted(Incident.objects.values_list("root_cause__slug", flat=True)) == [
        "bureau-0",
        "bureau-1",
        "bureau-2",
    ]
    assert connection.vendor in {"postgresql", "sqlite"}
