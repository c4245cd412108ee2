"""The Django admin, for what the console does not edit. Its writes take the console's way:
each POST runs inside one public change (`statuspage.changes`), incidents and maintenance are
edited through the actions, and every other save or delete is audited (via admin), so that what
the admin changes is recomputed, published and in the audit log like any other change.

People too: users (with their role and password changes), the role groups (read-only: the
code defines them) and second factors (removable, never shown or edited) are audited here."""

from __future__ import annotations

from contextlib import contextmanager
from functools import wraps

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from statuspage import actions
from statuspage.admin_audit import AuditTrailAdmin
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
from statuspage.roles import ROLES

Via = AuditEntry.Via


class LookOnlyAdmin:
    """A model admin to look at only: nothing is added, changed or deleted there."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


class AuditedAdmin(AuditTrailAdmin, PublicChangeAdmin):
    """Audited saves and deletes of what the public may see (and no action covers): each runs
    inside the POST's public change, so what it changes is recomputed and published."""

    @contextmanager
    def audited_write(self):
        with public_change() as public:
            yield
            self.published(public)

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
class AuditEntryAdmin(LookOnlyAdmin, admin.ModelAdmin):
    list_display = ["at", "actor_name", "via", "action", "object_type", "object_repr"]
    list_filter = ["via", "object_type"]


# --- people: users, role groups, second factors --------------------------------------------

User = get_user_model()
admin.site.unregister(User)
admin.site.unregister(Group)
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


@admin.register(User)
class StaffUserAdmin(AuditTrailAdmin, UserAdmin):
    """Users, audited: the role (the group) and the superuser flag with the rest; a role that
    moved gets its own `user.role` entry too, as `set_role` and the console write it. Password
    hashes never reach the log: a new password is recorded as "changed"."""

    audit_exclude = ("password", "last_login", "groups")

    def audit_state(self, obj) -> dict:
        roles = [name for name in obj.groups.values_list("name", flat=True) if name in ROLES]
        return super().audit_state(obj) | {"role": ", ".join(sorted(roles)) or None}

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        before = (form.audit_before or {}).get("role")
        after = self.audit_state(form.instance)["role"]
        if change and before != after:
            actions.audit(
                request.user,
                Via.ADMIN,
                "user.role",
                form.instance,
                before={"role": before},
                after={"role": after},
            )

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                user = self.get_object(request, unquote(id))
                actions.audit(
                    request.user, Via.ADMIN, "user.password", user, after={"password": "changed"}
                )
        return response


@admin.register(Group)
class RoleGroupAdmin(LookOnlyAdmin, GroupAdmin):
    """The role groups, to look at only: `statuspage.roles` gives them their permissions again
    after every `migrate`, so an edit here would be silently undone (and a new group is no
    role). Roles are given with `manage.py set_role` or on the console's users page."""


class SecondFactorAdmin(AuditTrailAdmin):
    """A user's second factor, to look at and to remove (a lost phone): never to add or edit,
    which only the user can do in the console, scanning the QR code themselves. Removing one is
    audited on the user (`user.second_factor_off`, `user.recovery_codes_off`)."""

    removed_action = ""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        user = obj.user
        with self.audited_write():
            super(AuditTrailAdmin, self).delete_model(request, obj)
            actions.audit(
                request.user,
                Via.ADMIN,
                self.removed_action,
                user,
                before={"device": obj.name, "confirmed": obj.confirmed},
                after=None,
            )


@admin.register(TOTPDevice)
class AuthenticatorAppAdmin(SecondFactorAdmin, TOTPDeviceAdmin):
    removed_action = "user.second_factor_off"


@admin.register(StaticDevice)
class RecoveryCodesAdmin(SecondFactorAdmin, StaticDeviceAdmin):
    removed_action = "user.recovery_codes_off"


def audited_own_password_change(change_password):
    """The admin's "change password" page (a user's own): audited like a password an admin
    sets for someone else (`StaffUserAdmin.user_change_password`)."""

    @wraps(change_password)
    def view(request, extra_context=None):
        with transaction.atomic():
            response = change_password(request, extra_context)
            if request.method == "POST" and response.status_code == 302:
                actions.audit(
                    request.user,
                    Via.ADMIN,
                    "user.password",
                    request.user,
                    after={"password": "changed"},
                )
        return response

    return view


admin.site.password_change = audited_own_password_change(admin.site.password_change)
