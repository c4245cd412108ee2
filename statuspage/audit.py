"""The audit trail's writer: who changed what, when, through which door, before and after.

Everything that changes something staff answer for writes one entry here: the actions, the
admin (`statuspage.admin_audit`), `apply_config`, the commands, role and token changes in the
console, sign-ins (`record_sign_in`) and failed ones (`statuspage.login_throttle`). Entries are
only ever added (`AuditEntry.save` refuses an update, and the admin shows them read-only).
"""

from __future__ import annotations

import getpass

from django.utils import timezone

from statuspage.models import AuditEntry


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
    file, a command's operator); it defaults to the user's name, or "system"."""
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


def command_operator() -> str:
    """Who ran a management command, as the audit log names them: the operating-system
    account (there is no signed-in user on a shell)."""
    try:
        account = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (some containers)
        account = "unknown account"
    return f"manage.py ({account})"


def audit_command(action: str, obj, before=None, after=None) -> AuditEntry:
    """An entry for a change made with a management command."""
    return audit(
        None, AuditEntry.Via.COMMAND, action, obj, before, after, actor_name=command_operator()
    )
