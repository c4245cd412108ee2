"""A component's status set by hand (the manual status; the public sees the derived one)."""

from __future__ import annotations

from django.utils import timezone

from statuspage.actions.audit import audit
from statuspage.actions.checks import check_choice
from statuspage.changes import public_change
from statuspage.models import Component, ComponentStatus


def set_component_status(
    component: Component, status: str, *, actor, via: str, now=None
) -> Component:
    """Set the status staff give a component by hand (operational clears it)."""
    now = now or timezone.now()
    check_choice("status", status, ComponentStatus)
    # The public sees only the status derived from it: bump only if that moves.
    with public_change(now, changed=False) as change:
        component = Component.objects.get(pk=component.pk)  # locked by the change
        before = {"manual_status": component.manual_status, "status": component.status}
        component.manual_status = status
        component.save(update_fields=["manual_status", "updated_at"])

        def audit_with_final_status():
            component.refresh_from_db()
            after = {"manual_status": component.manual_status, "status": component.status}
            audit(actor, via, "component.set_status", component, before, after, change.now)

        change.after_recompute(audit_with_final_status)
    return component
