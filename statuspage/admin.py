"""The Django admin, for what the console does not edit. Its writes take the console's way:
each POST runs inside one public change (`statuspage.changes`), incidents and maintenance are
edited through the actions, and every other save or delete is audited (via admin), so that what
the admin changes is recomputed, published and in the audit log like any other change."""

from __future__ import annotations

import json
from contextlib import contextmanager

from django import forms
from django.contrib import admin
from django.core import serializers
from django.db import transaction

from statuspage import actions
from statuspage.changes import PublicChange, public_change
from statuspage.models import (
    ApiToken,
    AuditEntry,
    Component,
    ComponentGroup,
    Incident,
    IncidentTemplate,
    Maintenance,
    MaintenanceStatus,
)

Via = AuditEntry.Via


class PublicChangeAdmin(admin.ModelAdmin):
    """Runs every POST (the change form, the delete page, the change list's actions) inside one
    public change: whatever it saves is recomputed and published together, once."""

    def lock_first(self, request) -> None:
        """Take the locks that come before the component locks in the one global order."""

    @contextmanager
    def writing(self, request):
        if request.method != "POST":
            yield
            return
        with transaction.atomic():
            self.lock_first(request)
            with public_change(changed=False):  # the saves below declare what changed
                yield

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        with self.writing(request):
            return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        with self.writing(request):
            return super().delete_view(request, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        with self.writing(request):
            return super().changelist_view(request, extra_context)


class AuditedAdmin(PublicChangeAdmin):
    """Saves and deletes that no action covers, each with an audit entry (via admin)."""

    audit_exclude: tuple[str, ...] = ()  # fields kept out of the audit log (secrets)

    def audit_state(self, obj) -> dict:
        """The object's fields (many-to-many ones as lists of ids), as JSON can hold them."""
        fields = json.loads(serializers.serialize("json", [obj]))[0]["fields"]
        return {name: value for name, value in fields.items() if name not in self.audit_exclude}

    def save_model(self, request, obj, form, change):
        before = type(obj).objects.get(pk=obj.pk) if change else None
        form.audit_before = self.audit_state(before) if before else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        with public_change() as public:
            action = "update" if change else "create"
            after = self.audit_state(obj)
            actions.audit(
                request.user, Via.ADMIN, self.action(action), obj, form.audit_before, after
            )
            self.published(public)

    def delete_model(self, request, obj):
        before, pk = self.audit_state(obj), obj.pk
        with public_change() as public:
            super().delete_model(request, obj)
            obj.pk = pk  # for the audit entry
            actions.audit(request.user, Via.ADMIN, self.action("delete"), obj, before, None)
            self.published(public)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def action(self, verb: str) -> str:
        return f"{self.model._meta.model_name}.{verb}"

    def published(self, change: PublicChange) -> None:
        """What else must follow a write, inside the same change."""


@admin.register(ComponentGroup)
class ComponentGroupAdmin(AuditedAdmin):
    list_display = ["name", "slug", "position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Component)
class ComponentAdmin(AuditedAdmin):
    list_display = ["name", "slug", "group", "position", "is_public", "status"]
    list_filter = ["group", "is_public", "status"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["depends_on"]
    readonly_fields = ["status", "status_since", "status_cause", "auto_status"]
    exclude = ["manual_status"]


@admin.register(IncidentTemplate)
class IncidentTemplateAdmin(AuditedAdmin):
    list_display = ["name", "title", "impact"]
    filter_horizontal = ["components"]


@admin.register(Incident)
class IncidentAdmin(PublicChangeAdmin):
    """Edits an incident's fields through `actions.edit_incident`. Incidents are opened and
    updated in the console or the API (they write the timeline), and never deleted."""

    list_display = ["title", "status", "impact", "origin", "started_at"]
    list_filter = ["status", "impact", "origin"]
    fields = ["title", "title_alt", "impact", "is_public", "status", "origin", "started_at"]
    readonly_fields = ["status", "origin", "started_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if form.changed_data:
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            actions.edit_incident(obj, actor=request.user, via=Via.ADMIN, **changes)


class MaintenanceForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("starts_at") and cleaned.get("ends_at"):
            actions.check_window(cleaned["starts_at"], cleaned["ends_at"])
        return cleaned


@admin.register(Maintenance)
class MaintenanceAdmin(PublicChangeAdmin):
    """Edits a maintenance through `actions.edit_maintenance`; it is scheduled, moved on and
    cancelled in the console or the API, and never deleted."""

    form = MaintenanceForm
    list_display = ["title", "status", "starts_at", "ends_at"]
    fields = [
        "title",
        "title_alt",
        "description",
        "description_alt",
        "starts_at",
        "ends_at",
        "auto_start",
        "auto_complete",
        "is_public",
        "components",
        "status",
    ]
    readonly_fields = ["status"]
    filter_horizontal = ["components"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        done = (MaintenanceStatus.COMPLETED, MaintenanceStatus.CANCELLED)
        return super().has_change_permission(request, obj) and not (obj and obj.status in done)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        if changes:
            actions.edit_maintenance(obj, actor=request.user, via=Via.ADMIN, **changes)

    def save_related(self, request, form, formsets, change):
        pass  # edit_maintenance has set the components


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "token_hash", "created_at", "last_used_at"]
    audit_exclude = ("token_hash",)

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
