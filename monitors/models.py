"""Probes: what to check, how often, from where, and when a failure counts."""

import re

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from monitors.latency import empty_histogram, histogram_percentile
from statuspage.models import Component


def default_vantage_points() -> list[str]:
    return ["local"]


# No probe runs more often than this, whatever its interval says.
MINIMUM_INTERVAL_SECONDS = 10
# A vantage point's name (a queue name, a config key; the column holds 50 characters).
VANTAGE_POINT = re.compile(r"^[a-z0-9][-a-z0-9_]{0,49}$")


class Probe(models.Model):
    """One check of a component, run from each of its vantage points.

    `kind` names a class in `monitors.checks.REGISTRY`, which validates and runs `config`.
    `conditions` is a list of {"condition": "[STATUS] == 200", "severity": "partial_outage"}:
    every condition must hold; a failed one puts the component in its severity.
    """

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="probes")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20)
    config = models.JSONField(default=dict, blank=True)
    conditions = models.JSONField(default=list, blank=True)
    interval_seconds = models.PositiveIntegerField(default=60, validators=[MinValueValidator(10)])
    recheck_seconds = models.PositiveIntegerField(default=10, validators=[MinValueValidator(1)])
    timeout_seconds = models.FloatField(default=10.0, validators=[MinValueValidator(0.1)])
    failure_threshold = models.PositiveIntegerField(default=3, validators=[MinValueValidator(1)])
    success_threshold = models.PositiveIntegerField(default=2, validators=[MinValueValidator(1)])
    vantage_points = models.JSONField(default=default_vantage_points)
    # How many vantage points must confirm a failure; None means more than half of them.
    quorum = models.PositiveIntegerField(null=True, blank=True)
    is_enabled = models.BooleanField(default=True)
    # Heartbeat probes: the secret in the URL the external job calls, and its last call.
    heartbeat_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    last_ping_at = models.DateTimeField(null=True, blank=True)
    last_ping_ok = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["component__slug", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["component", "name"], name="probe_name_unique_per_component"
            )
        ]

    def __str__(self) -> str:
        return f"{self.component.slug}/{self.name}"


class ProbeState(models.Model):
    """Where one probe stands at one vantage point: when it runs next and how its recent results
    count towards confirming a failure or a recovery (see `monitors.confirmation`)."""

    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="states")
    vantage_point = models.CharField(max_length=50)
    next_run_at = models.DateTimeField(db_index=True)
    # The scheduled time of the newest run counted here: older, redelivered runs are recorded
    # as results but never move the confirmation state backwards.
    last_scheduled_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_ok = models.BooleanField(null=True)
    last_summary = models.CharField(max_length=300, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    consecutive_successes = models.PositiveIntegerField(default=0)
    # Confirmed down: the failure threshold was reached and the success threshold not since.
    is_down = models.BooleanField(default=False)
    # Since when the state is what it is (down since / up since), and the first failure seen.
    since = models.DateTimeField(default=timezone.now)
    failing_since = models.DateTimeField(null=True, blank=True)
    # The worst severity, and the last failed condition and value, seen while failing.
    severity = models.CharField(max_length=32, blank=True)
    failed_condition = models.CharField(max_length=200, blank=True)
    seen = models.CharField(max_length=200, blank=True)
    # TLS probes: the certificate last read here (subject, issuer, not_after, days_left,
    # chain_ok, hostname_ok, not_verified_because), kept when a later run cannot connect.
    certificate = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["probe_id", "vantage_point"]
        constraints = [
            models.UniqueConstraint(
                fields=["probe", "vantage_point"], name="one_state_per_probe_and_vantage_point"
            )
        ]

    def __str__(self) -> str:
        return f"{self.probe_id}@{self.vantage_point}"

    @property
    def is_unconfirmed_failure(self) -> bool:
        return not self.is_down and self.consecutive_failures > 0


class ProbeResult(models.Model):
    """One run of a probe at one vantage point. Kept RESULT_RETENTION_DAYS; history pages read
    the rollups instead."""

    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="results")
    vantage_point = models.CharField(max_length=50)
    # The run's slot: with the probe and vantage point, what makes a redelivered run a duplicate.
    scheduled_at = models.DateTimeField()
    checked_at = models.DateTimeField()
    ok = models.BooleanField()
    latency_ms = models.FloatField(null=True, blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    failed_condition = models.CharField(max_length=200, blank=True)
    seen = models.CharField(max_length=200, blank=True)
    error = models.CharField(max_length=300, blank=True)
    severity = models.CharField(max_length=32, blank=True)
    # When the site stored it: an agent's spooled results arrive long after `checked_at`.
    # Empty for results stored before this column existed.
    received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-checked_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["probe", "vantage_point", "scheduled_at"], name="one_result_per_run"
            )
        ]
        indexes = [
            # The console's recent results per vantage point; exact even for one with none.
            models.Index(
                fields=["probe", "vantage_point", "-checked_at"], name="result_probe_vp_recent"
            ),
            models.Index(fields=["checked_at"], name="result_checked_at"),
        ]


class ProbeRollup(models.Model):
    """Counts for one probe at one vantage point over one hour or one day, updated as results
    arrive (each update is O(1): percentiles come from a fixed latency histogram)."""

    class Period(models.TextChoices):
        HOUR = "hour"
        DAY = "day"

    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="rollups")
    vantage_point = models.CharField(max_length=50)
    period = models.CharField(max_length=4, choices=Period.choices)
    start = models.DateTimeField()
    checks = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    downtime_seconds = models.FloatField(default=0)
    latency_max_ms = models.FloatField(null=True, blank=True)
    latency_sum_ms = models.FloatField(default=0)
    latency_count = models.PositiveIntegerField(default=0)
    histogram = models.JSONField(default=empty_histogram)

    class Meta:
        ordering = ["start"]
        constraints = [
            models.UniqueConstraint(
                fields=["probe", "vantage_point", "period", "start"], name="one_rollup_per_slot"
            )
        ]
        indexes = [
            models.Index(fields=["probe", "period", "start"], name="rollup_probe_period_start"),
            models.Index(fields=["period", "start"], name="rollup_period_start"),
        ]

    def percentile(self, fraction: float) -> float | None:
        return histogram_percentile(self.histogram, fraction, self.latency_max_ms)

    @property
    def p50(self) -> float | None:
        return self.percentile(0.5)

    @property
    def p95(self) -> float | None:
        return self.percentile(0.95)


class VantagePointProblem(models.Model):
    """A failure confirmed at one vantage point but not by a quorum of them: most likely that
    vantage point's own network. Shown to staff; changes nothing public."""

    probe = models.ForeignKey(Probe, on_delete=models.CASCADE, related_name="network_problems")
    vantage_point = models.CharField(max_length=50)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    failed_condition = models.CharField(max_length=200, blank=True)
    seen = models.CharField(max_length=200, blank=True)
    # The failure later reached quorum: it was the start of a real outage, not the network.
    escalated = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["probe", "-started_at"], name="vp_problem_probe_recent"),
            models.Index(fields=["ended_at"], name="vp_problem_open"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["probe", "vantage_point"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_problem_per_vantage_point",
            )
        ]

    def __str__(self) -> str:
        return f"{self.probe} @ {self.vantage_point} since {self.started_at:%Y-%m-%d %H:%M}"


class DispatcherState(models.Model):
    """A single row: when the dispatcher (the one beat entry) last ran, and when the stall
    watch (`monitors.stall.watch`) last looked. One UPDATE per dispatch, nothing per result:
    the vantage points' last results are read from `ProbeState.last_checked_at`."""

    last_run_at = models.DateTimeField(default=timezone.now)
    watched_at = models.DateTimeField(default=timezone.now)

    @classmethod
    def record_run(cls, now) -> None:
        if not cls.objects.filter(pk=1).update(last_run_at=now):
            cls.objects.get_or_create(pk=1, defaults={"last_run_at": now, "watched_at": now})

    @classmethod
    def last_run(cls):
        """When the dispatcher last ran (the row is created, as if it had just run, by the
        migration: a site upgraded before its beat first runs is not stalled)."""
        row = cls.objects.filter(pk=1).values_list("last_run_at", flat=True).first()
        if row is None:
            return cls.objects.get_or_create(pk=1)[0].last_run_at
        return row


class MonitoringStall(models.Model):
    """A period in which probing stopped delivering: from `started_at` (the last thing heard
    from what fell silent) until `ended_at`. At most one is open; whoever opens or closes it
    also writes the staff alert and bumps the public version, in the same transaction."""

    started_at = models.DateTimeField()
    noticed_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    # What fell silent, for staff: "dispatcher", "vantage point local", …
    reasons = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-noticed_at", "-id"]
        constraints = [
            # An index on a constant: at most one row may be open.
            models.UniqueConstraint(
                models.Value(True),
                condition=models.Q(ended_at__isnull=True),
                name="one_open_monitoring_stall",
            )
        ]

    def __str__(self) -> str:
        return f"monitoring stalled since {self.started_at:%Y-%m-%d %H:%M:%S}"


class VantagePointSilenceQuerySet(models.QuerySet):
    def silent(self) -> frozenset[str]:
        """The vantage points silent now (one query on a tiny table)."""
        return frozenset(self.filter(ended_at__isnull=True).values_list("vantage_point", flat=True))


class VantagePointSilence(models.Model):
    """A vantage point from which no result has arrived for too long (`monitors.stall`):
    from `started_at` (its last result) until `ended_at`. While it is open the vantage
    point's probe states count as unknown in the quorum (`confirmation.probe_status_across`).
    At most one is open per vantage point; staff hear of its start and its end once each."""

    vantage_point = models.CharField(max_length=50)
    started_at = models.DateTimeField()
    noticed_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    # Staff were told of it on its own. Not while it is part of a stall: the stall's alert
    # names it, and its end is then told by the stall's end.
    alerted = models.BooleanField(default=False)

    objects = VantagePointSilenceQuerySet.as_manager()

    class Meta:
        ordering = ["-noticed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["vantage_point"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_silence_per_vantage_point",
            )
        ]

    def __str__(self) -> str:
        return f"vantage point {self.vantage_point} silent since {self.started_at:%H:%M:%S}"


class Lease(models.Model):
    """A named lease: who may act alone (today only "beat", the beat that sends the periodic
    tasks) and until when. Claimed and renewed with a conditional UPDATE (`monitors.beat`), so
    that of several processes exactly one holds it, and another takes it once it expires."""

    name = models.CharField(max_length=50, primary_key=True)
    holder = models.CharField(max_length=200)
    expires_at = models.DateTimeField()
    # When the current holder took it (kept across renewals): for staff, and for the logs.
    since = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder} until {self.expires_at:%H:%M:%S}"


class AgentToken(models.Model):
    """The token of a remote agent (`statuspage-agent`), bound to one vantage point: it may
    read that vantage point's assignment and deliver its results, nothing else. Only its
    SHA-256 is stored; `manage.py create_agent_token` shows it once."""

    vantage_point = models.CharField(max_length=50)
    prefix = models.CharField(
        max_length=16, help_text="The token's first characters, to recognise it."
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["vantage_point", "created_at"]
        indexes = [models.Index(fields=["prefix"], name="agent_token_prefix")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.vantage_point})"


class FiringAlertQuerySet(models.QuerySet):
    def firing(self, now):
        """Alerts not resolved and whose `endsAt` (if they gave one) has not passed."""
        return self.filter(resolved_at__isnull=True).filter(
            models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=now)
        )

    def statuses_by_component(self, now) -> dict[int, list[str]]:
        """{component id: [status of each matched alert firing on it]}."""
        statuses: dict[int, list[str]] = {}
        for component_id, status in (
            self.firing(now)
            .filter(component__isnull=False)
            .exclude(status="")
            .values_list("component_id", "status")
        ):
            statuses.setdefault(component_id, []).append(status)
        return statuses


class FiringAlert(models.Model):
    """An alert from Alertmanager or Grafana (`monitors.alerts`), one row per source and
    fingerprint, so that a repeated notification changes nothing. While it fires and matched
    a component, its `status` joins that component's probes in the automatic status. One that
    matched nothing is kept too, with `component` empty, for the console to show."""

    class Source(models.TextChoices):
        ALERTMANAGER = "alertmanager", "Alertmanager"
        GRAFANA = "grafana", "Grafana"

    source = models.CharField(max_length=20, choices=Source.choices)
    fingerprint = models.CharField(max_length=128)
    name = models.CharField(max_length=200, blank=True)
    labels = models.JSONField(default=dict)
    summary = models.CharField(max_length=500, blank=True)
    component = models.ForeignKey(
        Component, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    # The component status it asks for; empty when it matched nothing.
    status = models.CharField(max_length=32, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    first_received_at = models.DateTimeField()
    last_received_at = models.DateTimeField()
    times_received = models.PositiveIntegerField(default=1)

    objects = FiringAlertQuerySet.as_manager()

    class Meta:
        ordering = ["-last_received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "fingerprint"], name="one_alert_per_source_fingerprint"
            )
        ]
        indexes = [models.Index(fields=["resolved_at", "component"], name="alert_firing")]

    def __str__(self) -> str:
        return f"{self.source} {self.name or self.fingerprint}"
