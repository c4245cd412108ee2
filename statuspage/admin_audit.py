"""Audited model admins: every add, change and delete through the Django admin writes an audit
entry (via admin) with the object's fields before and after. Apart from `statuspage.admin`
so that the other apps' admins (subscriptions, monitors) can use it without importing the
public-change boundary."""

from __future__ import annotations

import json
from contextlib import contextmanager

from django.contrib import admin
from django.core import serializers
from django.db import transaction

from statuspage.audit import audit
from statuspage.models import AuditEntry

Via = AuditEntry.Via


class AuditTrailAdmin(admin.ModelAdmin):
    """Every add, change and delete through this admin writes an audit entry (via admin), with
    the object's fields before and after. `tests/core/test_admin_audit.py` checks that every
    model admin that can write is one of these, or writes through the actions (which audit)."""

    audit_exclude: tuple[str, ...] = ()  # fields kept out of the audit log (secrets)

    def audit_state(self, obj) -> dict:
        """The object's fields (foreign keys and many-to-many ones by natural key where the
        model has one, else by id), as JSON can hold them."""
        serialized = serializers.serialize("json", [obj], use_natural_foreign_keys=True)
        fields = json.loads(serialized)[0]["fields"]
        # An `auto_now` field moves on every save: the entry's own time says when.
        left_out = {
            *self.audit_exclude,
            *(f.name for f in obj._meta.fields if getattr(f, "auto_now", False)),
        }
        return {name: value for name, value in fields.items() if name not in left_out}

    def get_readonly_fields(self, request, obj=None):
        # When a row was made is a fact, not a setting (and the form's round trip, to the
        # second, would show every save as a change of it).
        fields = list(super().get_readonly_fields(request, obj))
        names = {field.name for field in self.model._meta.fields}
        return fields + [name for name in ("created_at",) if name in names and name not in fields]

    @contextmanager
    def audited_write(self):
        """Where the write and its entry go together."""
        with transaction.atomic():
            yield

    def save_model(self, request, obj, form, change):
        before = type(obj)._default_manager.get(pk=obj.pk) if change else None
        form.audit_before = self.audit_state(before) if before else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        with self.audited_write():
            action = "update" if change else "create"
            after = self.audit_state(obj)
            audit(request.user, Via.ADMIN, self.action(action), obj, form.audit_before, after)

    def delete_model(self, request, obj):
        before, pk = self.audit_state(obj), obj.pk
        with self.audited_write():
            super().delete_model(request, obj)
            obj.pk = pk  # for the audit entry
            audit(request.user, Via.ADMIN, self.action("delete"), obj, before, None)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def action(self, verb: str) -> str:
        return f"{self.model._meta.model_name}.{verb}"
