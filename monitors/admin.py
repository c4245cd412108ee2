from django import forms
from django.contrib import admin

from monitors.checks import validate_config
from monitors.conditions import validate_conditions
from monitors.models import Probe, ProbeResult, ProbeState, VantagePointProblem
from monitors.results import refresh_auto_statuses
from statuspage.admin import AuditedAdmin
from statuspage.admin_audit import AuditTrailAdmin


class ProbeForm(forms.ModelForm):
    """Rejects a config or a condition its kind cannot run when it is saved, not at run time."""

    class Meta:
        model = Probe
        fields = [
            "component",
            "name",
            "kind",
            "config",
            "conditions",
            "interval_seconds",
            "recheck_seconds",
            "timeout_seconds",
            "failure_threshold",
            "success_threshold",
            "vantage_points",
            "quorum",
            "is_enabled",
            "heartbeat_token",
        ]

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind:
            try:
                cleaned["config"] = validate_config(kind, cleaned.get("config") or {})
            except ValueError as exc:
                self.add_error("config", str(exc))
        try:
            cleaned["conditions"] = validate_conditions(cleaned.get("conditions") or [])
        except ValueError as exc:
            self.add_error("conditions", str(exc))
        vantage_points = cleaned.get("vantage_points")
        if vantage_points is not None and (
            not isinstance(vantage_points, list)
            or not vantage_points
            or not all(isinstance(v, str) and v for v in vantage_points)
        ):
            self.add_error("vantage_points", 'A list of vantage point names, e.g. ["local"].')
        return cleaned


class ProbeStateInline(admin.TabularInline):
    model = ProbeState
    extra = 0
    can_delete = False
    fields = [
        "vantage_point",
        "is_down",
        "consecutive_failures",
        "consecutive_successes",
        "since",
        "last_checked_at",
        "last_summary",
        "next_run_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Probe)
class ProbeAdmin(AuditedAdmin):
    """Probe edits are audited, and the component's automatic status follows them at once (a
    probe disabled or deleted no longer holds its component down)."""

    form = ProbeForm
    list_display = ["name", "component", "kind", "interval_seconds", "is_enabled"]
    list_filter = ["kind", "is_enabled", "component"]
    search_fields = ["name", "component__name", "component__slug"]
    inlines = [ProbeStateInline]
    audit_exclude = ("heartbeat_token",)

    def lock_first(self, request) -> None:
        # A recorder holds its probe's row when it takes the component locks: probe rows come
        # first here too (all of them, in order: the admin writes rarely).
        list(Probe.objects.select_for_update().order_by("pk").values_list("pk", flat=True))

    def published(self, change) -> None:
        refresh_auto_statuses(change.now)


@admin.register(VantagePointProblem)
class VantagePointProblemAdmin(AuditTrailAdmin):
    list_display = ["probe", "vantage_point", "started_at", "ended_at", "escalated"]
    list_filter = ["vantage_point", "escalated"]
    readonly_fields = [f.name for f in VantagePointProblem._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ProbeResult)
class ProbeResultAdmin(AuditTrailAdmin):
    """Read-only, for digging into one probe's recent runs."""

    list_display = ["checked_at", "probe", "vantage_point", "ok", "latency_ms", "failed_condition"]
    list_filter = ["ok", "vantage_point"]
    list_select_related = ["probe__component"]
    readonly_fields = [f.name for f in ProbeResult._meta.fields]
    show_full_result_count = False  # no COUNT(*) over millions of rows

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
