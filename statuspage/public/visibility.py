"""What of the internal world the public may see, decided once for every public surface.

Rows are filtered by the models' `public()` querysets (`Component.objects.public()`,
`Incident.objects.public()`, ...). This module holds the rules for the text that rows carry
about other rows: the components an incident update names, and the cause a component is
degraded because of. The pages, /api/v2, feeds, iCal, badges, the snapshot, emails and
webhooks all use it; tests/public/test_internal_stays_internal.py walks them all.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext

from statuspage.models import Component


def internal_component_ids() -> frozenset[str]:
    """The ids (as strings, as Statuspage's payloads carry them) of internal components."""
    return frozenset(
        str(pk) for pk in Component.objects.filter(is_public=False).values_list("pk", flat=True)
    )


def public_affected_components(
    items: Iterable[dict], internal_ids: frozenset[str] | None = None
) -> list[dict]:
    """An update's `affected_components` ({code, name, old_status, new_status}) without the
    internal ones: updates keep the names as they were written, so they are filtered on the
    way out, not on the way in."""
    if internal_ids is None:
        internal_ids = internal_component_ids()
    return [item for item in items or () if str(item.get("code")) not in internal_ids]


def public_cause_name(component: Component, use_alt: bool) -> str | None:
    """The name a public component is degraded because of, for the public: the root cause's
    own name when it is public, "a supporting system" when it is internal, None when the
    component is fine or its trouble is its own."""
    cause = component.status_cause
    if cause is None or component.status == "operational":
        return None
    if not cause.is_public:
        return gettext("a supporting system")
    return cause.name_alt if use_alt and cause.name_alt else cause.name
