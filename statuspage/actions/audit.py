"""The audit trail: the one writer of `AuditEntry` rows, which every action calls inside its
change."""

from __future__ import annotations

from django.utils import timezone

from statuspage.models import AuditEntry

Via = AuditEntry.Via


def audit(
    actor,
    via: str,
    action: str,
    obj,
    before=None,
    after=None,
    now=None,
    *,
    actor_name: str | None = None,
    object_repr: str | None = None,
) -> AuditEntry:
    """The one writer of audit entries. `actor_name` names an actor that is no user (a config
    file); it defaults to the user's name, or "system"."""
    if actor_name is None:
        actor_name = actor.get_username() if actor is not None else "system"
    return AuditEntry.objects.create(
        at=now or timezone.now(),
        actor=author(actor),
        actor_name=actor_name[:150],
        via=via,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=str(obj.pk),
        object_repr=(str(obj) if object_repr is None else object_repr)[:200],
        before=before,
        after=after,
    )


def author(actor):
    """The user to store as author: None for the system (and for unsaved stand-ins)."""
    return actor if actor is not None and actor.pk else None
