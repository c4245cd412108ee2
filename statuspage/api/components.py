"""/api/v1/components: list, read, and set a component's status by hand (by slug or id)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router

from statuspage import actions
from statuspage.api.auth import RESPONDER_TOKEN
from statuspage.api.errors import ERROR_RESPONSES
from statuspage.api.lookups import component_or_404
from statuspage.api.schemas import ComponentOut, ComponentStatusChange
from statuspage.models import AuditEntry, Component

router = Router(tags=["components"])


def components_with_details() -> QuerySet[Component]:
    return Component.objects.prefetch_related("depends_on")


@router.get("", response={200: list[ComponentOut], **ERROR_RESPONSES})
def list_components(request: HttpRequest):
    """Every component, internal-only ones included, in page order."""
    return components_with_details()


@router.get("/{component_ref}", response={200: ComponentOut, **ERROR_RESPONSES})
def get_component(request: HttpRequest, component_ref: str):
    """A component by slug or id."""
    return component_or_404(component_ref)


@router.patch(
    "/{component_ref}", response={200: ComponentOut, **ERROR_RESPONSES}, auth=RESPONDER_TOKEN
)
def set_component_status(request: HttpRequest, component_ref: str, payload: ComponentStatusChange):
    """Set the status staff give the component by hand (by slug or id)."""
    component = actions.set_component_status(
        component_or_404(component_ref), payload.status, actor=request.auth, via=AuditEntry.Via.API
    )
    return component
