from django.contrib import admin

from statuspage.models import (
    ApiToken,
    AuditEntry,
    Component,
    ComponentGroup,
    Incident,
    IncidentTemplate,
    Maintenance,
)


@admin.register(ComponentGroup)
class ComponentGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "group", "position", "is_public", "status"]
    list_filter = ["group", "is_public", "status"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["depends_on"]
    readonly_fields = ["status", "status_since", "status_cause", "auto_status"]
    exclude = ["manual_status"]


@admin.register(IncidentTemplate)
class IncidentTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "impact"]
    filter_horizontal = ["components"]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Read-only: incidents change through the console or the API, which audit and notify."""

    list_display = ["title", "status", "impact", "origin", "started_at"]
    list_filter = ["status", "impact", "origin"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Maintenance)
class MaintenanceAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "starts_at", "ends_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "token_hash", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False  # tokens are made with `manage.py create_api_token`, which shows them once


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_name", "via", "action", "object_type", "object_repr"]
    list_filter = ["via", "object_type"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
