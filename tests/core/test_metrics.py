"""GET /metrics: the site's state in Prometheus's text format, read from the database at scrape
time; open to loopback and METRICS_ALLOWED_NETWORKS, elsewhere only with METRICS_TOKEN."""

import ipaddress
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from monitors.agent_tokens import issue_agent_token
from monitors.models import DispatcherState, Probe, ProbeState, VantagePointSilence
from monitors.results import RunResult, record_result
from statuspage import actions
from statuspage.models import AuditEntry, Component
from statuspage.subscriptions.models import Delivery, Notification
from tests.servers import LiveSite, test_database_url

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def scrape(client=None, **headers) -> dict:
    """{(name, frozenset(labels.items())): value} of one scrape from loopback."""
    response = (client or Client()).get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    return samples[(name, frozenset(labels.items()))]


def run(probe: Probe, vantage_point: str, ok: bool, latency_ms: float, at: datetime) -> None:
    outcome = RunResult(ok=ok, latency_ms=latency_ms, severity="" if ok else "major_outage")
    record_result(probe, vantage_point, outcome, now=at, scheduled_at=at)


@pytest.fixture
def probe(make_component):
    return Probe.objects.create(
        component=make_component("bureau"),
        name="health",
        kind="http",
        config={"url": "http://127.0.0.1:9/"},
        vantage_points=["local", "shanghai"],
        failure_threshold=1,
        interval_seconds=30,
    )


@pytest.mark.django_db
def test_it_gives_each_component_one_status_set_to_1_and_a_numeric_code(clock, make_component):
    make_component("disburse", status="partial_outage")
    make_component("repay")
    samples = scrape()
    assert (
        value(samples, "statuspage_component_status", component="disburse", status="partial_outage")
        == 1
    )
    assert (
        value(samples, "statuspage_component_status", component="disburse", status="operational")
        == 0
    )
    assert (
        value(samples, "statuspage_component_status", component="repay", status="operational") == 1
    )
    assert value(samples, "statuspage_component_status_code", component="disburse") == 3
    assert value(samples, "statuspage_component_status_code", component="repay") == 0


@pytest.mark.django_db
def test_it_reports_results_and_a_latency_histogram_per_probe_and_vantage_point(clock, probe):
    run(probe, "local", True, 40, NOW)
    run(probe, "local", True, 400, NOW + timedelta(seconds=30))
    run(probe, "shanghai", False, 2500, NOW)
    samples = scrape()
    local = {"component": "bureau", "probe": "health", "vantage_point": "local"}
    shanghai = {**local, "vantage_point": "shanghai"}
    assert value(samples, "statuspage_probe_up", **local) == 1
    assert value(samples, "statuspage_probe_up", **shanghai) == 0
    assert value(samples, "statuspage_probe_down", **shanghai) == 1
    assert value(samples, "statuspage_probe_checks_total", **local) == 2
    assert value(samples, "statuspage_probe_failures_total", **shanghai) == 1
    assert value(samples, "statuspage_probe_latency_seconds_bucket", le="0.05", **local) == 1
    assert value(samples, "statuspage_probe_latency_seconds_bucket", le="0.5", **local) == 2
    assert value(samples, "statuspage_probe_latency_seconds_bucket", le="+Inf", **local) == 2
    assert value(samples, "statuspage_probe_latency_seconds_count", **local) == 2
    assert value(samples, "statuspage_probe_latency_seconds_sum", **local) == pytest.approx(0.44)
    assert value(samples, "statuspage_probe_latency_seconds_bucket", le="2.0", **shanghai) == 0
    assert value(samples, "statuspage_probe_latency_seconds_bucket", le="3.0", **shanghai) == 1


@pytest.mark.django_db
def test_it_leaves_out_vantage_points_the_probe_no_longer_uses(clock, probe):
    run(probe, "local", True, 40, NOW)
    run(probe, "shanghai", True, 40, NOW)
    probe.vantage_points = ["local"]
    probe.save()
    names = {key for key in scrape() if key[0] == "statuspage_probe_up"}
    assert [dict(labels)["vantage_point"] for _, labels in names] == ["local"]


@pytest.mark.django_db
def test_it_counts_the_probe_histograms_from_midnight(clock, probe):
    run(probe, "local", True, 40, NOW)
    clock.shift(timedelta(days=1))
    run(probe, "local", True, 40, NOW + timedelta(days=1))
    local = {"component": "bureau", "probe": "health", "vantage_point": "local"}
    assert value(scrape(), "statuspage_probe_checks_total", **local) == 1


@pytest.mark.django_db
def test_it_reports_the_dispatchers_last_run_and_lag(clock, probe):
    DispatcherState.record_run(NOW - timedelta(seconds=42))
    samples = scrape()
    assert (
        value(samples, "statuspage_dispatcher_last_run_timestamp_seconds")
        == (NOW - timedelta(seconds=42)).timestamp()
    )
    assert value(samples, "statuspage_dispatch_lag_seconds") == 42
    assert value(samples, "statuspage_monitoring_stalled") == 0


@pytest.mark.django_db
def test_it_reports_silent_vantage_points_and_no_overdue_run_at_an_agents(clock, probe):
    issue_agent_token("shanghai")
    ProbeState.objects.create(probe=probe, vantage_point="local", next_run_at=NOW)
    # The agent's state is never dispatched, so its next run stays in the past.
    ProbeState.objects.create(
        probe=probe, vantage_point="shanghai", next_run_at=NOW - timedelta(hours=1)
    )
    VantagePointSilence.objects.create(vantage_point="shanghai", started_at=NOW, noticed_at=NOW)
    samples = scrape()
    silent = [dict(k[1]) for k in samples if k[0] == "statuspage_vantage_point_silent"]
    assert silent == [{"vantage_point": "shanghai"}]
    assert value(samples, "statuspage_probe_overdue_seconds") == 0


@pytest.mark.django_db
def test_it_reports_the_outbox_backlog_and_delivery_outcomes(clock):
    notification = Notification.objects.create(kind="incident_opened", subject="x")

    def delivery(status, channel="email", due=NOW):
        Delivery.objects.create(
            notification=notification,
            channel=channel,
            address="a@example.com",
            status=status,
            next_attempt_at=due,
        )

    delivery("pending", due=NOW - timedelta(minutes=3))
    delivery("pending", due=NOW + timedelta(minutes=3))  # a retry, not due yet
    delivery("sent")
    delivery("failed", channel="webhook")
    samples = scrape()
    assert value(samples, "statuspage_outbox_due") == 1
    assert value(samples, "statuspage_outbox_oldest_due_seconds") == 180
    assert value(samples, "statuspage_outbox_deliveries", channel="email", status="sent") == 1
    assert value(samples, "statuspage_outbox_deliveries", channel="email", status="pending") == 2
    assert value(samples, "statuspage_outbox_deliveries", channel="webhook", status="failed") == 1
    assert value(samples, "statuspage_outbox_deliveries", channel="webhook", status="sent") == 0


@pytest.mark.django_db
def test_it_counts_open_incidents_by_impact(clock, staff):
    for impact in ("major", "major", "minor"):
        actions.open_incident(
            title="Payouts delayed",
            body="On it.",
            actor=staff,
            via=AuditEntry.Via.CONSOLE,
            impact=impact,
            now=NOW,
        )
    samples = scrape()
    assert value(samples, "statuspage_open_incidents", impact="major", origin="manual") == 2
    assert value(samples, "statuspage_open_incidents", impact="minor", origin="manual") == 1
    assert value(samples, "statuspage_open_incidents", impact="critical", origin="automatic") == 0


@pytest.mark.django_db
def test_it_counts_firing_alerts_by_source_and_match(clock, make_component):
    import json

    from monitors.alerts import read_alertmanager, receive_alerts

    make_component("bureau")

    def alert(fingerprint, **labels):
        return {
            "status": "firing",
            "labels": {"alertname": "A", **labels},
            "startsAt": "2026-11-29T01:00:00Z",
            "fingerprint": fingerprint,
        }

    body = {
        "version": "4",
        "alerts": [
            alert("a", component="bureau", severity="critical"),
            alert("b", team="x"),
            alert("c", team="y"),
        ],
    }
    receive_alerts("alertmanager", read_alertmanager(json.dumps(body).encode()), [], NOW)
    samples = scrape()
    assert value(samples, "statuspage_alerts_firing", source="alertmanager", matched="true") == 1
    assert value(samples, "statuspage_alerts_firing", source="alertmanager", matched="false") == 2
    assert value(samples, "statuspage_alerts_firing", source="grafana", matched="true") == 0


@pytest.mark.django_db
def test_its_query_count_does_not_grow_with_probes(
    clock, make_component, django_assert_max_num_queries
):
    for n in range(30):
        component = make_component(f"c{n}")
        probe = Probe.objects.create(
            component=component, name="p", kind="http", config={}, vantage_points=["local"]
        )
        run(probe, "local", True, 20, NOW)
    with django_assert_max_num_queries(13):
        scrape()


# --- who may read it ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_refuses_a_remote_client_without_a_token(settings):
    settings.METRICS_TOKEN = ""
    response = Client(REMOTE_ADDR="203.0.113.9").get("/metrics")
    assert response.status_code == 403
    assert b"METRICS_TOKEN" in response.content


@pytest.mark.django_db
def test_it_asks_a_remote_client_for_the_token(settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    client = Client(REMOTE_ADDR="203.0.113.9")
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics").status_code == 401
    good = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    assert good.status_code == 200


@pytest.mark.django_db
def test_it_lets_allowed_networks_in_without_a_token(settings):
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.20.0.0/16")]
    assert Client(REMOTE_ADDR="10.20.3.4").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="10.21.3.4").get("/metrics").status_code == 403


@pytest.mark.django_db
def test_behind_a_proxy_on_loopback_it_judges_the_forwarded_address(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = Client(REMOTE_ADDR="127.0.0.1")
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="1.2.3.4, 127.0.0.1").status_code == 200


@pytest.mark.django_db
def test_it_rejects_writes():
    assert Client().post("/metrics").status_code == 405


def test_a_bad_allowed_network_fails_at_start_up(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from statuspage.env import env_networks

    monkeypatch.setenv("METRICS_ALLOWED_NETWORKS", "10.0.0.0/8, not-a-network")
    with pytest.raises(ImproperlyConfigured, match="METRICS_ALLOWED_NETWORKS"):
        env_networks("METRICS_ALLOWED_NETWORKS", [])


# --- a real scrape, checked by Prometheus's own linter --------------------------------------------


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_promtool_accepts_a_real_scrape(tmp_path, make_component, staff):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("needs promtool (apt-get install prometheus; `make test` does it as root)")
    bureau = make_component("bureau")
    probe = Probe.objects.create(
        component=bureau, name="health", kind="http", config={}, vantage_points=["local"]
    )
    from django.utils import timezone

    run(probe, "local", True, 120, timezone.now())
    actions.open_incident(
        title="Slow",
        body="On it.",
        actor=staff,
        via=AuditEntry.Via.CONSOLE,
        components={Component.objects.get(slug="bureau"): "degraded_performance"},
    )
    site = LiveSite(tmp_path, DATABASE_URL=test_database_url(), STATIC_SNAPSHOT_DIR="")
    try:
        status, headers, body = site.get("/metrics")
    finally:
        output = site.stop()
    assert status == 200, output
    expected = b'statuspage_component_status{component="bureau",status="degraded_performance"} 1.0'
    assert expected in body
    check = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, timeout=30
    )
    assert check.returncode == 0, check.stdout + check.stderr
