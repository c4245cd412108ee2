"""Probes: what to check, how often, from where, and when a failure counts."""

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from statuspage.models import Component


def default_vantage_points() -> list[str]:
    return ["local"]


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

    def quorum_size(self) -> int:
        return self.quorum or len(self.vantage_points) // 2 + 1
