"""Finding the objects a request names, with a 404 (path) or a 400 naming the field (body)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import Http404

from statuspage.models import Component

# Ids are strings in the API; anything that is not a positive 64-bit integer names nothing.
MAX_ID = 2**63 - 1


def parse_id(value: str) -> int | None:
    if not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None


def get_by_id(queryset: QuerySet, value: str, what: str) -> Model:
    pk = parse_id(value)
    found = queryset.filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise Http404(f"No {what} with id {value!r}.")
    return found


def find_component(ref: str) -> Component | None:
    """A component by slug or, failing that, by id (a slug wins when both could match)."""
    if "\x00" in ref:
        return None  # PostgreSQL cannot even compare text with NUL in it
    component = Component.objects.filter(slug=ref).first()
    if component is None and (pk := parse_id(ref)) is not None:
        component = Component.objects.filter(pk=pk).first()
    return component


def component_or_404(ref: str) -> Component:
    component = find_component(ref)
    if component is None:
        raise Http404(f"No component with slug or id {ref!r}.")
    return component


def components_by_ref(refs: Iterable[str], field: str = "components") -> dict[str, Component]:
    """Each ref's component; a 400 on `field` naming every ref that matches none."""
    found = {ref: find_component(ref) for ref in refs}
    unknown = [ref for ref, component in found.items() if component is None]
    if unknown:
        names = ", ".join(repr(ref) for ref in unknown)
        raise ValidationError({field: f"No component with slug or id {names}."})
    duplicates = {}
    for ref, component in found.items():
        if component.pk in duplicates:
            message = f"{ref!r} and {duplicates[component.pk]!r} name the same component."
            raise ValidationError({field: message})
        duplicates[component.pk] = ref
    return found
