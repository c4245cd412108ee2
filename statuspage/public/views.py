"""The public pages: server-rendered, complete without JavaScript, in the visitor's language.

Plain function views: the caching layer (`statuspage.public.caching`) wraps them in
`page_urls.py`.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe
from django.views.i18n import set_language

from statuspage.models import Component, Incident, Maintenance
from statuspage.public import api_v2, component_charts, detail_pages, front_page


def page_context(**extra) -> dict:
    """What every public page shows besides its content: where to get help (the time zone comes
    from the `site` context processor, for every page)."""
    return {
        "help_url": settings.HELP_URL,
        "help_contact": settings.HELP_CONTACT,
        **extra,
    }


BANNER_TEXT = {
    "none": _("All Systems Operational"),
    "minor": _("Minor Service Outage"),
    "major": _("Partial System Outage"),
    "critical": _("Major Service Outage"),
    "maintenance": _("Service Under Maintenance"),
}


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    # The refresh script fetches the page again when summary.json's `page.updated_at` or
    # `status.story` differ from the page's. The time is read before the page: should a change
    # land in between, the page looks older than it is and is fetched once more, never the
    # reverse.
    updated_at = api_v2.api_time(api_v2.site_state().changed_at)
    page = front_page.load_page()
    return render(request, "public/index.html", page_context(page=page, updated_at=updated_at))


@require_safe
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = get_object_or_404(Incident.objects.public(), pk=incident_id)
    return render(
        request, "public/incident.html", page_context(incident=detail_pages.load_incident(incident))
    )


@require_safe
def maintenance_detail(request: HttpRequest, maintenance_id: int) -> HttpResponse:
    maintenance = get_object_or_404(Maintenance.objects.public(), pk=maintenance_id)
    return render(
        request,
        "public/maintenance.html",
        page_context(maintenance=detail_pages.load_maintenance(maintenance)),
    )


@require_safe
def component_detail(request: HttpRequest, slug: str) -> HttpResponse:
    component = get_object_or_404(
        Component.objects.public().select_related("group", "status_cause"), slug=slug
    )
    return render(
        request, "public/component.html", page_context(page=detail_pages.load_component(component))
    )


@require_safe
def component_chart(request: HttpRequest, slug: str, label: str) -> HttpResponse:
    """One response-time chart of a component, as an SVG file: the front page shows it with
    `<img loading="lazy">` rather than inline, so that closed charts cost the page nothing."""
    component = get_object_or_404(Component.objects.public(), slug=slug)
    chart = component_charts.load_chart(component, label)
    if chart is None:
        raise Http404("This component has no probes")
    return HttpResponse(chart.svg, content_type="image/svg+xml; charset=utf-8")


@require_safe
def history(request: HttpRequest) -> HttpResponse:
    try:
        page = int(request.GET.get("page", "1"))
    except ValueError:
        raise Http404("No such page") from None
    if page < 1 or page > 1000:
        raise Http404("No such page")
    return render(
        request, "public/history.html", page_context(history=detail_pages.load_history(page))
    )


# The pages are cached and shared between visitors, so they cannot carry a per-visitor CSRF
# token; choosing the display language changes nothing but a cookie in the visitor's own
# browser, so Django's set_language is offered here without CSRF protection.
choose_language = csrf_exempt(require_POST(set_language))
