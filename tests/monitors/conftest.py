from datetime import UTC, datetime

import pytest
import time_machine

from monitors.models import Probe
from monitors.recorder import record_result
from monitors.results import RunResult

START = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    """The frozen clock, moved explicitly: `clock.shift(seconds)`; `clock.now()`."""
    with time_machine.travel(START, tick=False) as traveller:

        class Clock:
            def now(self):
                from django.utils import timezone

                return timezone.now()

            def shift(self, seconds: float) -> None:
                traveller.shift(seconds)

        yield Clock()


@pytest.fixture
def make_probe(make_component):
    def make(component=None, *, name="health", vantage_points=("local",), **fields) -> Probe:
        component = component or make_component("bureau")
        return Probe.objects.create(
            component=component,
            name=name,
            kind=fields.pop("kind", "http"),
            config=fields.pop("config", {"url": "http://127.0.0.1:9/"}),
            conditions=fields.pop("conditions", [{"condition": "[STATUS] == 200"}]),
            vantage_points=list(vantage_points),
            **fields,
        )

    return make


def good(latency_ms: float = 40.0) -> RunResult:
    return RunResult(ok=True, latency_ms=latency_ms, status_code=200)


def bad(severity: str = "partial_outage", seen: str = "500") -> RunResult:
    return RunResult(
        ok=False,
        latency_ms=30.0,
        status_code=int(seen) if seen.isdigit() else None,
        failed_condition="[STATUS] == 200",
        seen=seen,
        severity=severity,
    )


def feed(probe: Probe, vantage_point: str, run: RunResult, clock, step: float = 10.0):
    """Record one run at the clock's time, then move the clock on by `step` seconds."""
    now = clock.now()
    result = record_result(probe, vantage_point, run, now=now, scheduled_at=now)
    clock.shift(step)
    return result
