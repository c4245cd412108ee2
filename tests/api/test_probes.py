from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from monitors.models import Probe, ProbeResult, ProbeState

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


@pytest.fixture
def probe(components) -> Probe:
    return Probe.objects.create(
        component=components["bureau"],
        name="health",
        kind="http",
        config={"url": "http://bureau.internal/health", "headers": {"Authorization": "secret"}},
        vantage_points=["sh", "sz", "edge"],
        interval_seconds=30,
    )


def result(probe, vp: str, seconds: float, ok: bool = True, **fields) -> ProbeResult:
    at = NOW + timedelta(seconds=seconds)
    return ProbeResult.objects.create(
        probe=probe, vantage_point=vp, scheduled_at=at, checked_at=at, ok=ok, **fields
    )


def test_it_requires_a_token(anonymous):
    assert anonymous.get("/probes").status_code == 401
    assert anonymous.get("/probes/1/results").status_code == 401


def test_it_lists_probes_with_their_state_at_each_vantage_point(api, probe):
    ProbeState.objects.create(
        probe=probe, vantage_point="sh", next_run_at=NOW, last_checked_at=NOW, last_ok=True
    )
    ProbeState.objects.create(
        probe=probe,
        vantage_point="sz",
        next_run_at=NOW,
        last_checked_at=NOW,
        last_ok=False,
        consecutive_failures=3,
        is_down=True,
        last_summary="HTTP 500",
    )
    ProbeState.objects.create(
        probe=probe, vantage_point="old", next_run_at=NOW, last_checked_at=NOW, last_ok=True
    )
    response = api.get("/probes")
    assert response.status_code == 200
    (listed,) = response.json()
    assert listed["id"] == str(probe.pk) and listed["component"] == "credit-bureau"
    assert (listed["name"], listed["kind"]) == ("health", "http")
    assert listed["vantage_points"] == ["sh", "sz", "edge"]
    states = {s["vantage_point"]: s for s in listed["states"]}
    assert list(states) == ["sh", "sz", "edge"]  # a vantage point no longer listed is left out
    assert [states[vp]["state"] for vp in states] == ["up", "down", "unknown"]
    assert states["sz"]["last_summary"] == "HTTP 500"
    assert "config" not in listed and "secret" not in response.content.decode()


def test_an_unconfirmed_failure_is_failing(api, probe):
    ProbeState.objects.create(
        probe=probe, vantage_point="sh", next_run_at=NOW, last_checked_at=NOW,
        last_ok=False, consecutive_failures=1,
    )  # fmt: skip
    (listed,) = api.get("/probes").json()
    assert listed["states"][0]["state"] == "failing"


def test_it_shows_recent_results_newest_first(api, probe):
    result(probe, "sh", 0, latency_ms=12.5, status_code=200)
    result(probe, "sz", 10, ok=False, status_code=500, severity="partial_outage")
    result(probe, "sh", 20, latency_ms=11.0, status_code=200)
    response = api.get(f"/probes/{probe.pk}/results")
    assert response.status_code == 200
    rows = response.json()
    assert [(r["vantage_point"], r["ok"]) for r in rows] == [
        ("sh", True),
        ("sz", False),
        ("sh", True),
    ]
    assert rows[0]["checked_at"].startswith("2026-11-29T02:00:20")
    assert rows[2]["latency_ms"] == 12.5 and rows[1]["status_code"] == 500


def test_results_filter_by_vantage_point_since_and_limit(api, probe):
    for seconds in range(0, 60, 10):
        result(probe, "sh", seconds)
        result(probe, "sz", seconds + 1)
    only_sh = api.get(f"/probes/{probe.pk}/results", {"vantage_point": "sh"}).json()
    assert {r["vantage_point"] for r in only_sh} == {"sh"} and len(only_sh) == 6
    since = (NOW + timedelta(seconds=40)).isoformat()
    recent = api.get(f"/probes/{probe.pk}/results", {"since": since}).json()
    assert [r["checked_at"][17:19] for r in recent] == ["51", "50", "41"]
    assert len(api.get(f"/probes/{probe.pk}/results", {"limit": 2}).json()) == 2


@pytest.mark.parametrize(
    "params, field",
    [
        ({"vantage_point": "Not A Name"}, "vantage_point"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-11-29T02:00:00"}, "since"),  # no time zone: ambiguous
        ({"limit": "0"}, "limit"),
        ({"limit": "100000"}, "limit"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(api, probe, params, field):
    response = api.get(f"/probes/{probe.pk}/results", params)
    assert response.status_code == 400
    assert field in {error["field"] for error in response.json()["errors"]}


@pytest.mark.parametrize("ref", ["999", "abc", "-1", "1e3", "99999999999999999999999"])
def test_an_unknown_probe_is_a_404(api, probe, ref):
    assert api.get(f"/probes/{ref}/results").status_code == 404
    assert api.get(f"/probes/{ref}").status_code == 404


def test_one_probe_by_id(api, probe):
    with time_machine.travel(NOW, tick=False):
        response = api.get(f"/probes/{probe.pk}")
    assert response.status_code == 200 and response.json()["name"] == "health"
