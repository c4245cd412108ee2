"""The audit log: who changed what, when, through which door, before and after; on a page, or
as CSV with the same filters."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import tzinfo

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from statuspage.console.forms import AuditFilterForm
from statuspage.models import AuditEntry, ComponentStatus
from statuspage.roles import staff_required
from statuspage.text import spreadsheet_cell

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


def filtered_entries(request: HttpRequest) -> tuple[AuditFilterForm, QuerySet[AuditEntry]]:
    """The filter form as the request fills it, and the entries it selects (all of them when
    it is empty or invalid; the page says why)."""
    object_types = list(
        AuditEntry.objects.order_by("object_type").values_list("object_type", flat=True).distinct()
    )
    form = AuditFilterForm(request.GET or None, object_types=object_types)
    entries = AuditEntry.objects.select_related("actor")
    if form.is_bound and form.is_valid():
        entries = form.filter(entries)
    return form, entries


@staff_required
@require_safe
def audit_log(request: HttpRequest) -> HttpResponse:
    form, entries = filtered_entries(request)
    page = Paginator(entries, PER_PAGE).get_page(request.GET.get("page"))
    rows = [(entry, changes(entry.before, entry.after)) for entry in page]
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "rows": rows, "query": query.urlencode()}
    return render(request, "console/audit_log.html", context)


CSV_HEADER = ["at", "who", "via", "kind", "object_type", "object_id", "object", "before", "after"]


def as_json(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def csv_lines(entries: QuerySet[AuditEntry], tz: tzinfo) -> Iterator[str]:
    """The entries as CSV lines, read in batches (a year of sign-ins is a long file). Cells
    that a spreadsheet would take for a formula are quoted (`spreadsheet_cell`)."""
    line = io.StringIO()
    writer = csv.writer(line)

    def one(cells) -> str:
        line.seek(0)
        line.truncate()
        writer.writerow([spreadsheet_cell(cell) for cell in cells])
        return line.getvalue()

    # A byte-order mark, so that spreadsheet programs read Chinese names as UTF-8.
    yield "\ufeff" + one(CSV_HEADER)
    for entry in entries.iterator(chunk_size=2000):
        yield one(
            [
                timezone.localtime(entry.at, tz).isoformat(),
                entry.actor_name,
                entry.via,
                entry.action,
                entry.object_type,
                entry.object_id,
                entry.object_repr,
                as_json(entry.before),
                as_json(entry.after),
            ]
        )


@staff_required
@require_safe
def audit_export(request: HttpRequest) -> HttpResponse:
    """The audit log as CSV, with the page's filters."""
    form, entries = filtered_entries(request)
    if form.is_bound and not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
        return HttpResponseBadRequest(f"Invalid filter, nothing exported: {problems}")
    response = StreamingHttpResponse(
        csv_lines(entries, timezone.get_current_timezone()), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response
