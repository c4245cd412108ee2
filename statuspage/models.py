"""The status domain, in Statuspage's vocabulary.

Every state change is a row: component status changes (`ComponentStatusChange`), incident and
maintenance updates, audit entries and public events (`Event`, the outbox that notifications and
snapshots are driven from) are written in the same transaction as the change itself.

Over 400 lines on purpose: Django looks for an app's models in `models.py`, and these refer to
each other (components, incidents, maintenance, events, audit); probing's models are in
`monitors/models.py`, notifications' in `statuspage/subscriptions/models.py`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ComponentStatus(models.TextChoices):
    OPERATIONAL = "operational", _("Operational")
    DEGRADED_PERFORMANCE = "degraded_performance", _("Degraded performance")
    PARTIAL_OUTAGE = "partial_outage", _("Partial outage")
    MAJOR_OUTAGE = "major_outage", _("Major outage")
    UNDER_MAINTENANCE = "under_maintenance", _("Under maintenance")


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", _("Investigating")
    IDENTIFIED = "identified", _("Identified")
    MONITORING = "monitoring", _("Monitoring")
    RESOLVED = "resolved", _("Resolved")
    POSTMORTEM = "postmortem", _("Postmortem")


OPEN_INCIDENT_STATUSES = (
    IncidentStatus.INVESTIGATING,
    IncidentStatus.IDENTIFIED,
    IncidentStatus.MONITORING,
)


class Impact(models.TextChoices):
    NONE = "none", _("None")
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    CRITICAL = "critical", _("Critical")


class Origin(models.TextChoices):
    MANUAL = "manual", _("Manual")
    AUTOMATIC = "automatic", _("Automatic")


class MaintenanceStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    IN_PROGRESS = "in_progress", _("In progress")
    VERIFYING = "verifying", _("Verifying")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_MAINTENANCE_STATUSES = (MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING)


# --- what the public may see -------------------------------------------------------------------
# Every public surface (pages, /api/v2, feeds, iCal, badges, the snapshot, emails, webhooks)
# reads through these `public()` filters, so that "internal stays internal" is decided once.


class ComponentQuerySet(models.QuerySet):
    def public(self):
        return self.filter(is_public=True)


class IncidentQuerySet(models.QuerySet):
    def public(self):
        """Incidents published by staff. An automatic incident whose root cause is internal
        is stored as internal; the root-cause test also keeps one out that was opened before
        its root cause was made internal."""
        return self.filter(is_public=True).exclude(root_cause__is_public=False)


class MaintenanceQuerySet(models.QuerySet):
    def public(self):
        return self.filter(is_public=True)


class IncidentComponentQuerySet(models.QuerySet):
    def public(self):
        """Links between a public incident and a public component."""
        return self.filter(incident__is_public=True, component__is_public=True).exclude(
            incident__root_cause__is_public=False
        )


class ComponentGroup(models.Model):
    name = models.CharField(max_length=100)
    name_alt = models.CharField(
        max_length=100, blank=True, help_text="The name in the second language (optional)."
    )
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    description_alt = models.TextField(
        blank=True, help_text="The description in the second language (optional)."
    )
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Component(models.Model):
    name = models.CharField(max_length=100)
    name_alt = models.CharField(
        max_length=100, blank=True, help_text="The name in the second language (optional)."
    )
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    description_alt = models.TextField(
        blank=True, help_text="The description in the second language (optional)."
    )
    group = models.ForeignKey(
        ComponentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="components"
    )
    position = models.PositiveIntegerField(default=0)
    is_public = models.BooleanField(
        default=True, help_text="Internal-only components never appear publicly."
    )
    only_show_if_degraded = models.BooleanField(default=False)
    # Alerts from Alertmanager or Grafana that set this component's automatic status, from the
    # config file: [{"match": ['alertname="BureauDown"', ...], "status": "partial_outage"}]
    # (see monitors.alerts; without a status, the alert's severity decides).
    alert_rules = models.JSONField(default=list, blank=True)
    depends_on = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="dependents"
    )

    # Inputs to the derived status (see statuspage.status): set by hand, by probes.
    manual_status = models.CharField(
        max_length=32, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL
    )
    auto_status = models.CharField(
        max_length=32, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL
    )
    # The derived, effective status, stored so that pages read one column.
    status = models.CharField(
        max_length=32, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL
    )
    status_since = models.DateTimeField(default=timezone.now)
    # When the status comes from a failing dependency: the probable root cause.
    status_cause = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    start_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ComponentQuerySet.as_manager()

    class Meta:
        ordering = ["group__position", "position", "name"]

    def __str__(self) -> str:
        return self.name


class ComponentStatusChange(models.Model):
    """One row per change of a component's effective status: the history uptime is built from."""

    component = models.ForeignKey(
        Component, on_delete=models.CASCADE, related_name="status_changes"
    )
    old_status = models.CharField(max_length=32, choices=ComponentStatus.choices)
    new_status = models.CharField(max_length=32, choices=ComponentStatus.choices)
    cause = models.ForeignKey(
        Component, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["component", "at"])]
        ordering = ["at", "id"]


class ComponentDay(models.Model):
    """Daily rollup of a component's effective status: seconds spent in each non-operational
    status during the day (in TIME_ZONE), and the worst status seen. Pages read this, never the
    raw change rows."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    worst_status = models.CharField(
        max_length=32, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL
    )
    degraded_seconds = models.PositiveIntegerField(default=0)
    partial_seconds = models.PositiveIntegerField(default=0)
    major_seconds = models.PositiveIntegerField(default=0)
    maintenance_seconds = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["component", "day"], name="one_day_per_component")
        ]
        indexes = [models.Index(fields=["day"])]


class Incident(models.Model):
    title = models.CharField(max_length=200)
    title_alt = models.CharField(
        max_length=200, blank=True, help_text="The title in the second language."
    )
    status = models.CharField(
        max_length=20, choices=IncidentStatus.choices, default=IncidentStatus.INVESTIGATING
    )
    impact = models.CharField(max_length=10, choices=Impact.choices, default=Impact.MINOR)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.MANUAL)
    is_public = models.BooleanField(default=True)
    components = models.ManyToManyField(
        Component, through="IncidentComponent", related_name="incidents"
    )
    # Automatic incidents: the component named as the probable root cause. While such an
    # incident is open, no second automatic incident can be opened for the same root cause.
    root_cause = models.ForeignKey(
        Component,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="root_cause_incidents",
    )
    # Staff took an automatic incident over: it is never auto-edited again except for recovery.
    taken_over_at = models.DateTimeField(null=True, blank=True)
    # Automatic incidents: when subscribers were last told of an escalation (they are told at
    # most once per ESCALATION_NOTIFY_MINUTES).
    escalation_notified_at = models.DateTimeField(null=True, blank=True)
    postmortem = models.TextField(blank=True)
    postmortem_alt = models.TextField(
        blank=True, help_text="The postmortem in the second language (Markdown)."
    )
    postmortem_published_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    monitoring_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-started_at"]),
            models.Index(fields=["-started_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["root_cause"],
                condition=Q(origin="automatic", resolved_at__isnull=True),
                name="one_open_automatic_incident_per_root_cause",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_INCIDENT_STATUSES


class IncidentComponent(models.Model):
    """A component affected by an incident, and the status the incident puts it in."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="affected")
    component = models.ForeignKey(
        Component, on_delete=models.CASCADE, related_name="incident_links"
    )
    status = models.CharField(
        max_length=32, choices=ComponentStatus.choices, default=ComponentStatus.PARTIAL_OUTAGE
    )

    objects = IncidentComponentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "component"], name="component_once_per_incident"
            )
        ]


class IncidentUpdate(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=20, choices=IncidentStatus.choices)
    body = models.TextField(help_text="Markdown.")
    body_alt = models.TextField(
        blank=True, help_text="The message in the second language (Markdown)."
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    notify_subscribers = models.BooleanField(default=True)
    # Statuspage's affected_components: [{code, name, old_status, new_status}]
    affected_components = models.JSONField(default=list, blank=True)
    display_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-display_at", "-id"]
        indexes = [models.Index(fields=["incident", "-display_at"])]


class MaintenanceSeries(models.Model):
    """A recurring maintenance window: an RFC 5545 recurrence rule (`FREQ=WEEKLY;BYDAY=SU`)
    from the first window's start, in TIME_ZONE's wall-clock time. Its occurrences are
    ordinary Maintenance rows, created ahead of time by `statuspage.recurrence`, so each one
    starts, completes, reminds and shows like any other window; one can be edited or cancelled
    alone, and a cancelled one is never created again."""

    recurrence = models.CharField(max_length=500)
    first_starts_at = models.DateTimeField()
    duration = models.DurationField()
    title = models.CharField(max_length=200)
    title_alt = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    description_alt = models.TextField(blank=True)
    is_public = models.BooleanField(default=True)
    auto_start = models.BooleanField(default=True)
    auto_complete = models.BooleanField(default=True)
    components = models.ManyToManyField(Component, blank=True, related_name="maintenance_series")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The `slug` of the config file's `maintenances:` entry that made it (statuspage.config_apply);
    # empty for a series scheduled in the console or the API, which the file never touches.
    config_slug = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["first_starts_at", "id"]
        verbose_name_plural = "maintenance series"
        constraints = [
            models.UniqueConstraint(
                fields=["config_slug"],
                condition=models.Q(cancelled_at__isnull=True) & ~models.Q(config_slug=""),
                name="one_running_series_per_config_slug",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.recurrence})"


class Maintenance(models.Model):
    title = models.CharField(max_length=200)
    title_alt = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True, help_text="Markdown.")
    description_alt = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=MaintenanceStatus.choices, default=MaintenanceStatus.SCHEDULED
    )
    impact = models.CharField(max_length=12, default="maintenance", editable=False)
    is_public = models.BooleanField(default=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    auto_start = models.BooleanField(default=True, help_text="Start at the window's start.")
    auto_complete = models.BooleanField(default=True, help_text="Complete at the window's end.")
    components = models.ManyToManyField(Component, blank=True, related_name="maintenances")
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # An occurrence of a recurring maintenance, and the start its rule gave it (kept when
    # staff move this one occurrence: it is what the calendar's EXDATE and RECURRENCE-ID name).
    series = models.ForeignKey(
        MaintenanceSeries,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="occurrences",
    )
    occurrence_start = models.DateTimeField(null=True, blank=True)

    objects = MaintenanceQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["status", "starts_at"]),
            models.Index(fields=["status", "ends_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="maintenance_ends_after_start"
            ),
            models.UniqueConstraint(
                fields=["series", "occurrence_start"], name="one_maintenance_per_occurrence"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class MaintenanceUpdate(models.Model):
    maintenance = models.ForeignKey(Maintenance, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=20, choices=MaintenanceStatus.choices)
    body = models.TextField(blank=True)
    body_alt = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    notify_subscribers = models.BooleanField(default=True)
    display_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-display_at", "-id"]


class InternalNote(models.Model):
    """Staff-only notes on an incident or a maintenance: never on a public page, feed or API."""

    incident = models.ForeignKey(
        Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="notes"
    )
    maintenance = models.ForeignKey(
        Maintenance, null=True, blank=True, on_delete=models.CASCADE, related_name="notes"
    )
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class IncidentTemplate(models.Model):
    name = models.CharField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    title_alt = models.CharField(
        max_length=200, blank=True, help_text="The title in the second language."
    )
    body = models.TextField(help_text="Markdown: the first update's message.")
    body_alt = models.TextField(
        blank=True, help_text="The first message in the second language (Markdown)."
    )
    impact = models.CharField(max_length=10, choices=Impact.choices, default=Impact.MINOR)
    component_status = models.CharField(
        max_length=32, choices=ComponentStatus.choices, default=ComponentStatus.PARTIAL_OUTAGE
    )
    components = models.ManyToManyField(Component, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AuditEntry(models.Model):
    """Who changed what, when, through which door, with the values before and after."""

    class Via(models.TextChoices):
        CONSOLE = "console", _("Console")
        API = "api", _("API")
        SYSTEM = "system", _("System")
        CONFIG = "config", _("Config file")
        ADMIN = "admin", _("Admin")
        COMMAND = "command", _("Command")

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_name = models.CharField(max_length=150, blank=True)
    via = models.CharField(max_length=10, choices=Via.choices)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["-at"]), models.Index(fields=["object_type", "object_id"])]

    def save(self, *args, **kwargs) -> None:
        # Append-only: a trail that can be edited proves nothing. (Deleting a user clears
        # `actor` with a queryset update, and keeps `actor_name`.)
        if not self._state.adding:
            raise ValueError("Audit entries are never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit entries are never deleted.")


class ApiToken(models.Model):
    """A bearer token for /api/v1/. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(
        max_length=12, help_text="The token's first characters, to recognise it."
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class IdempotencyKey(models.Model):
    """The first answer to a token API write sent with an `Idempotency-Key` header, so that a
    retry with the same key (by the same user) gets that answer again instead of doing the
    write twice. `fingerprint` tells a retry from a different request reusing the key."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100)
    body = models.BinaryField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.user_id})"


class SubscriptionRequest(models.Model):
    """A subscribe form as submitted, waiting for a worker (statuspage.subscriptions.signup).
    The view writes only this row, so that new, pending and subscribed addresses take the same
    path and the same time; the row is deleted once handled. (Here rather than in the
    subscriptions app only to keep this change to one migration.)"""

    email = models.EmailField(max_length=254)
    language = models.CharField(max_length=10)
    component_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"subscription request {self.pk}"


class Event(models.Model):
    """The outbox: one row per public event, written in the same transaction as the change.

    Notifications (email, webhooks) and static snapshots are driven from these rows; whoever
    processes one claims it with a conditional UPDATE so that it is handled exactly once.
    """

    class Kind(models.TextChoices):
        INCIDENT_OPENED = "incident_opened"
        INCIDENT_UPDATED = "incident_updated"
        INCIDENT_RESOLVED = "incident_resolved"
        MAINTENANCE_SCHEDULED = "maintenance_scheduled"
        MAINTENANCE_UPDATED = "maintenance_updated"
        MAINTENANCE_STARTED = "maintenance_started"
        MAINTENANCE_COMPLETED = "maintenance_completed"
        MAINTENANCE_CANCELLED = "maintenance_cancelled"
        COMPONENT_STATUS_CHANGED = "component_status_changed"

    kind = models.CharField(max_length=40, choices=Kind.choices)
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.CASCADE)
    incident_update = models.ForeignKey(
        IncidentUpdate, null=True, blank=True, on_delete=models.CASCADE
    )
    maintenance = models.ForeignKey(Maintenance, null=True, blank=True, on_delete=models.CASCADE)
    maintenance_update = models.ForeignKey(
        MaintenanceUpdate, null=True, blank=True, on_delete=models.CASCADE
    )
    component = models.ForeignKey(Component, null=True, blank=True, on_delete=models.CASCADE)
    old_status = models.CharField(max_length=32, blank=True)
    new_status = models.CharField(max_length=32, blank=True)
    # False for quiet updates: shown publicly, but nobody is notified.
    notify = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["fanned_out_at", "id"])]


class SiteState(models.Model):
    """A single row: the version of everything the public sees, bumped by every change to it.
    Public caches key on it; the static snapshot is rewritten when it moves."""

    version = models.PositiveBigIntegerField(default=1)
    changed_at = models.DateTimeField(default=timezone.now)
    snapshot_version = models.PositiveBigIntegerField(default=0)

    @classmethod
    def bump(cls, now=None) -> None:
        now = now or timezone.now()
        updated = cls.objects.filter(pk=1).update(version=F("version") + 1, changed_at=now)
        if not updated:
            cls.objects.get_or_create(pk=1, defaults={"version": 2, "changed_at": now})

    @classmethod
    def current(cls) -> SiteState:
        state, _ = cls.objects.get_or_create(pk=1)
        return state


class Journey(models.Model):
    """Something a borrower does (apply for a loan, repay), and the components it needs: the
    public page's "is it me or the system?" panel answers per journey. Defined in the config."""

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=100)
    name_alt = models.CharField(max_length=100, blank=True)
    position = models.PositiveIntegerField(default=0)
    components = models.ManyToManyField(Component, related_name="journeys")

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class StaffAccess(models.Model):
    """No table: it only carries the console's permissions, which the roles (groups) in
    `statuspage.roles` grant. Views check permissions, never group names."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("use_console", "Use the staff console: read everything, add internal notes"),
            ("respond", "Open and update incidents, maintenance and component statuses"),
            ("administer", "Change probes, tokens, subscribers, webhooks, channels and users"),
        ]
