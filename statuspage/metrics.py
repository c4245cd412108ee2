"""`GET /metrics`: the site's state in Prometheus's text format, read from the database at
scrape time.

Nothing is counted in process memory, so every gunicorn worker (and the Celery workers that
record the probe results) agrees without prometheus-client's multiprocess mode: one custom
collector runs a fixed number of small queries per scrape.

Readable without a token from loopback and `METRICS_ALLOWED_NETWORKS`; from anywhere else
only with `Authorization: Bearer <METRICS_TOKEN>` (compared in constant time). With neither
configured, only loopback may read it.

The metrics (labels in braces; cardinality is bounded by the configured components, probes
and vantage points, never by traffic):

- `statuspage_component_status{component, status}`: 1 for the component's current effective
  status, 0 for the four others (one series per component and status);
- `statuspage_component_status_code{component}`: the same as a number, 0 operational,
  1 under maintenance, 2 degraded performance, 3 partial outage, 4 major outage;
- `statuspage_probe_up{component, probe, vantage_point}`: 1 when the last run passed;
  `statuspage_probe_down{…}`: 1 when a failure is confirmed there;
- `statuspage_probe_checks_total`, `statuspage_probe_failures_total` and the histogram
  `statuspage_probe_latency_seconds{component, probe, vantage_point, le}`: counted since
  midnight (TIME_ZONE) from the day's rollup, so they restart once a day, which Prometheus's
  `rate()` and `increase()` read as a counter reset (`_created` says since when);
- `statuspage_dispatcher_last_run_timestamp_seconds`, `statuspage_dispatch_lag_seconds`
  (how long ago the dispatcher last ran) and `statuspage_probe_overdue_seconds` (how late
  the most overdue run is); `statuspage_monitoring_stalled` is 1 while a stall is open;
  `statuspage_vantage_point_silent{vantage_point}` is 1 for each silent vantage point;
- `statuspage_outbox_due` and `statuspage_outbox_oldest_due_seconds` (the backlog),
  `statuspage_outbox_deliveries{channel, status}` (deliveries by outcome);
- `statuspage_open_incidents{impact, origin}`;
- `statuspage_alerts_firing{source, matched}`: alerts in from Alertmanager and Grafana.
"""

from __future__ import annotations

import hmac
import ipaddress
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Min, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.exposition import choose_encoder

from monitors.agent_tokens import agent_vantage_points
from monitors.latency import LATENCY_BUCKETS_MS
from monitors.models import (
    DispatcherState,
    FiringAlert,
    MonitoringStall,
    Probe,
    ProbeRollup,
    ProbeState,
    VantagePointSilence,
)
from statuspage import status as rules
from statuspage.models import OPEN_INCIDENT_STATUSES, Component, Impact, Incident, Origin
from statuspage.subscriptions.models import Delivery
from statuspage.times import day_start

STATUS_CODE = {
    rules.OPERATIONAL: 0,
    rules.MAINTENANCE: 1,
    rules.DEGRADED: 2,
    rules.PARTIAL: 3,
    rules.MAJOR: 4,
}
PROBE_LABELS = ["component", "probe", "vantage_point"]


def seconds(moment: datetime) -> float:
    return moment.timestamp()


class StatusSiteCollector:
    """Reads the database once per scrape; `now` is read once and passed down."""

    def collect(self):
        now = timezone.now()
        yield from self.components()
        yield from self.probes(now)
        yield from self.dispatching(now)
        yield from self.outbox(now)
        yield from self.incidents()
        yield from self.alerts(now)

    def components(self):
        by_status = GaugeMetricFamily(
            "statuspage_component_status",
            "1 for the component's current effective status, 0 for the others.",
            labels=["component", "status"],
        )
        code = GaugeMetricFamily(
            "statuspage_component_status_code",
            "The component's effective status as a number: 0 operational, 1 under "
            "maintenance, 2 degraded performance, 3 partial outage, 4 major outage.",
            labels=["component"],
        )
        for slug, current in Component.objects.order_by("slug").values_list("slug", "status"):
            for name in STATUS_CODE:
                by_status.add_metric([slug, name], 1 if current == name else 0)
            code.add_metric([slug], STATUS_CODE.get(current, 0))
        yield by_status
        yield code

    def probes(self, now: datetime):
        up = GaugeMetricFamily(
            "statuspage_probe_up", "1 when the probe's last run here passed.", labels=PROBE_LABELS
        )
        down = GaugeMetricFamily(
            "statuspage_probe_down",
            "1 when a failure of the probe is confirmed at this vantage point.",
            labels=PROBE_LABELS,
        )
        probes = {
            probe.pk: probe
            for probe in Probe.objects.filter(is_enabled=True)
            .select_related("component")
            .only("id", "name", "vantage_points", "component__slug")
        }

        def labels(probe_id: int, vantage_point: str) -> list[str] | None:
            probe = probes.get(probe_id)
            # Only the configured vantage points: a removed one's rows stay behind for a while.
            if probe is None or vantage_point not in probe.vantage_points:
                return None
            return [probe.component.slug, probe.name, vantage_point]

        for probe_id, vantage_point, last_ok, is_down in ProbeState.objects.values_list(
            "probe_id", "vantage_point", "last_ok", "is_down"
        ):
            names = labels(probe_id, vantage_point)
            if names is None or last_ok is None:
                continue
            up.add_metric(names, 1 if last_ok else 0)
            down.add_metric(names, 1 if is_down else 0)
        yield up
        yield down

        checks = CounterMetricFamily(
            "statuspage_probe_checks",
            "Runs of the probe at this vantage point since midnight (TIME_ZONE).",
            labels=PROBE_LABELS,
        )
        failures = CounterMetricFamily(
            "statuspage_probe_failures",
            "Failed runs of the probe at this vantage point since midnight (TIME_ZONE).",
            labels=PROBE_LABELS,
        )
        latency = HistogramMetricFamily(
            "statuspage_probe_latency_seconds",
            "Response time of the probe's runs at this vantage point since midnight (TIME_ZONE).",
            labels=PROBE_LABELS,
        )
        today = day_start(now)
        rollups = ProbeRollup.objects.filter(
            period=ProbeRollup.Period.DAY, start=today, probe_id__in=list(probes)
        ).values_list(
            "probe_id",
            "vantage_point",
            "checks",
            "failures",
            "histogram",
            "latency_sum_ms",
        )
        for probe_id, vantage_point, count, failed, histogram, sum_ms in rollups:
            names = labels(probe_id, vantage_point)
            if names is None:
                continue
            created = seconds(today)
            checks.add_metric(names, count, created=created)
            failures.add_metric(names, failed, created=created)
            cumulative, buckets = 0, []
            for bound, in_bucket in zip((*LATENCY_BUCKETS_MS, None), histogram, strict=False):
                cumulative += in_bucket
                buckets.append(("+Inf" if bound is None else str(bound / 1000), cumulative))
            latency.add_metric(names, buckets, sum_value=(sum_ms or 0) / 1000)
        yield checks
        yield failures
        yield latency

    def dispatching(self, now: datetime):
        last_run = DispatcherState.last_run()
        yield GaugeMetricFamily(
            "statuspage_dispatcher_last_run_timestamp_seconds",
            "When the probe dispatcher (the one beat entry) last ran, as a Unix time.",
            value=seconds(last_run),
        )
        yield GaugeMetricFamily(
            "statuspage_dispatch_lag_seconds",
            "Seconds since the probe dispatcher last ran.",
            value=max(0.0, (now - last_run).total_seconds()),
        )
        # An agent's vantage point is never dispatched (monitors.scheduler): not overdue.
        oldest = (
            ProbeState.objects.filter(probe__is_enabled=True)
            .exclude(vantage_point__in=agent_vantage_points())
            .aggregate(oldest=Min("next_run_at"))["oldest"]
        )
        yield GaugeMetricFamily(
            "statuspage_probe_overdue_seconds",
            "How late the most overdue probe run is (0 when none is overdue).",
            value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        )
        yield GaugeMetricFamily(
            "statuspage_monitoring_stalled",
            "1 while monitoring is stalled (the dispatcher, or every vantage point of a probe, "
            "fell silent).",
            value=1 if MonitoringStall.objects.filter(ended_at__isnull=True).exists() else 0,
        )
        silent = GaugeMetricFamily(
            "statuspage_vantage_point_silent",
            "1 for each vantage point silent now (no result for too long): it counts as "
            "unknown in the quorum.",
            labels=["vantage_point"],
        )
        for name in sorted(VantagePointSilence.objects.silent()):
            silent.add_metric([name], 1)
        yield silent

    def outbox(self, now: datetime):
        due = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        backlog = due.aggregate(count=Count("id"), oldest=Min("next_attempt_at"))
        yield GaugeMetricFamily(
            "statuspage_outbox_due",
            "Deliveries (emails, webhooks) due now and not yet sent.",
            value=backlog["count"],
        )
        oldest = backlog["oldest"]
        yield GaugeMetricFamily(
            "statuspage_outbox_oldest_due_seconds",
            "How long the oldest due delivery has waited (0 when none is due).",
            value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        )
        outcomes = GaugeMetricFamily(
            "statuspage_outbox_deliveries",
            "Deliveries by channel and outcome (pending, sending, sent, failed, dropped).",
            labels=["channel", "status"],
        )
        counted = {
            (channel, status): count
            for channel, status, count in Delivery.objects.order_by()
            .values_list("channel", "status")
            .annotate(count=Count("id"))
        }
        for channel in Delivery.Channel.values:
            for status in Delivery.Status.values:
                outcomes.add_metric([channel, status], counted.get((channel, status), 0))
        yield outcomes

    def incidents(self):
        open_incidents = GaugeMetricFamily(
            "statuspage_open_incidents",
            "Incidents not yet resolved, by impact and origin (manual or automatic).",
            labels=["impact", "origin"],
        )
        counted = {
            (impact, origin): count
            for impact, origin, count in Incident.objects.filter(status__in=OPEN_INCIDENT_STATUSES)
            .order_by()
            .values_list("impact", "origin")
            .annotate(count=Count("id"))
        }
        for impact in Impact.values:
            for origin in Origin.values:
                open_incidents.add_metric([impact, origin], counted.get((impact, origin), 0))
        yield open_incidents

    def alerts(self, now: datetime):
        firing = GaugeMetricFamily(
            "statuspage_alerts_firing",
            "Alerts from Alertmanager or Grafana firing now, by source and whether they "
            "matched a component (unmatched ones change no status).",
            labels=["source", "matched"],
        )
        counted = {
            (source, matched): count
            for source, matched, count in FiringAlert.objects.firing(now)
            .order_by()
            .annotate(matched=Q(component__isnull=False))
            .values_list("source", "matched")
            .annotate(count=Count("id"))
        }
        for source in FiringAlert.Source.values:
            for matched in (True, False):
                value = counted.get((source, matched), 0)
                firing.add_metric([source, "true" if matched else "false"], value)
        yield firing


# --- who may read it -----------------------------------------------------------------------------


def client_address(request: HttpRequest) -> str:
    """The client's address; behind the trusted proxy (BEHIND_PROXY), the address that proxy
    saw, the last X-Forwarded-For entry, since a proxy on loopback would otherwise make
    everyone local."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.SECURE_PROXY_SSL_HEADER and forwarded:
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def from_allowed_network(request: HttpRequest) -> bool:
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    if address.is_loopback:
        return True
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


def has_metrics_token(request: HttpRequest) -> bool:
    expected = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    if not (from_allowed_network(request) or has_metrics_token(request)):
        response = HttpResponse(
            "Metrics are readable from loopback and METRICS_ALLOWED_NETWORKS, or with "
            "Authorization: Bearer <METRICS_TOKEN>.\n",
            status=401 if settings.METRICS_TOKEN else 403,
            content_type="text/plain; charset=utf-8",
        )
        if settings.METRICS_TOKEN:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatusSiteCollector())
    # Prometheus's Accept header picks the format (OpenMetrics or the classic text format).
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encode(registry), content_type=content_type)
