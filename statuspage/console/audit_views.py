"""The audit log: who changed what, when, through which door, before and after."""

from __future__ import annotations

import json

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from statuspage.console.forms import AuditFilterForm
from statuspage.models import AuditEntry, ComponentStatus
from statuspage.roles import staff_required

PER_PAGE = 50


STATUS_WORDS = {value: str(label) for value, label in ComponentStatus.choices}


def as_text(value) -> str:
    """A value as staff read it: component statuses as words, other structures as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return STATUS_WORDS.get(value, value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def flatten(value: dict, prefix: str = "") -> dict:
    """Nested dicts as dotted keys ({"config": {"url": …}} -> {"config.url": …}), so that a
    change deep inside a probe's config shows as that one key, not as two whole documents."""
    flat = {}
    for key, item in value.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, dict) and item:
            flat.update(flatten(item, name))
        else:
            flat[name] = item
    return flat


def changes(before, after) -> list[dict]:
    """Before/after as rows of (field, before, after): only the keys whose value changed, nested
    dicts key by key; anything else as one row."""
    if isinstance(before, dict | None) and isinstance(after, dict | None) and (before or after):
        old, new = flatten(before or {}), flatten(after or {})
        rows = [
            {"field": key, "before": as_text(old.get(key)), "after": as_text(new.get(key))}
            for key in sorted(old.keys() | new.keys())
        ]
        # None and "" read the same ("–"): a row showing "– → –" tells nothing.
        return [row for row in rows if row["before"] != row["after"]]
    if before == after:
        return []
    return [{"field": "", "before": as_text(before), "after": as_text(after)}]


@staff_required
@require_safe
def audit_log(request: HttpRequest) -> HttpResponse:
    object_types = list(
        AuditEntry.objects.order_by("object_type").values_list("object_type", flat=True).distinct()
    )
    form = AuditFilterForm(request.GET or None, object_types=object_types)
    entries = AuditEntry.objects.select_related("actor")
    if form.is_bound and form.is_valid():
        entries = form.filter(entries)
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    rows = [(entry, changes(entry.before, entry.after)) for entry in page]
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "rows": rows, "query": query.urlencode()}
    return render(request, "console/audit_log.html", context)
