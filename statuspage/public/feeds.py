"""RSS 2.0 and Atom 1.0 feeds of public incidents and maintenance, for the whole page and per
component, on `django.contrib.syndication`.

Each entry is one incident or one maintenance; its id is its public page's address (stable for
its life), its content the timeline of updates, newest first. Feed readers re-read an entry
when its updated date moves, so a new update surfaces without creating a new entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import chain

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import format_html

from statuspage.markdown import render_markdown
from statuspage.models import (
    Component,
    Incident,
    IncidentComponent,
    IncidentStatus,
    IncidentUpdate,
    Maintenance,
    MaintenanceStatus,
    MaintenanceUpdate,
)
from statuspage.public.caching import public_cache
from statuspage.times import moment as moment_text

FEED_LIMIT = 50


@dataclass(frozen=True)
class FeedEntry:
    """One incident or maintenance, as an entry of a feed."""

    title: str
    link: str
    published: datetime
    updated: datetime
    content: str
    categories: tuple[str, ...]


def entry_time(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return format_html(
        '<time datetime="{}">{}</time>',
        local.isoformat(),
        moment_text(moment),
    )


def timeline_html(updates, labels) -> str:
    parts = []
    for update in updates:
        parts.append(
            format_html(
                "<p><strong>{}</strong> · {}</p>",
                labels[update.status],
                entry_time(update.display_at),
            )
        )
        if update.body:
            parts.append(str(render_markdown(update.body)))
    return "\n".join(parts)


def incident_entry(incident: Incident) -> FeedEntry:
    labels = dict(IncidentStatus.choices)
    components = ", ".join(link.component.name for link in incident.affected.all())
    header = format_html(
        "<p>{}: {}. {}</p>",
        "Impact",
        incident.impact,
        f"Affected: {components}." if components else "",
    )
    return FeedEntry(
        title=f"{incident.title} [{labels[incident.status]}]",
        link=f"{settings.SITE_URL}/incidents/{incident.pk}",
        published=incident.started_at,
        updated=incident.updated_at,
        content=header + timeline_html(incident.updates.all(), labels),
        categories=("incident", incident.status),
    )


def maintenance_entry(maintenance: Maintenance) -> FeedEntry:
    labels = dict(MaintenanceStatus.choices)
    components = ", ".join(c.name for c in maintenance.components.all())
    header = format_html(
        "<p>Scheduled {} to {}. {}</p>",
        entry_time(maintenance.starts_at),
        entry_time(maintenance.ends_at),
        f"Affected: {components}." if components else "",
    )
    description = str(render_markdown(maintenance.description)) if maintenance.description else ""
    return FeedEntry(
        title=f"{maintenance.title} [{labels[maintenance.status]}]",
        link=f"{settings.SITE_URL}/maintenance/{maintenance.pk}",
        published=maintenance.created_at,
        updated=maintenance.updated_at,
        content=header + description + timeline_html(maintenance.updates.all(), labels),
        categories=("maintenance", maintenance.status),
    )


def public_incidents() -> QuerySet[Incident]:
    return Incident.objects.public().prefetch_related(
        Prefetch("updates", queryset=IncidentUpdate.objects.order_by("-display_at", "-id")),
        Prefetch(
            "affected",
            queryset=IncidentComponent.objects.filter(component__is_public=True).select_related(
                "component"
            ),
        ),
    )


def public_maintenances() -> QuerySet[Maintenance]:
    return Maintenance.objects.public().prefetch_related(
        Prefetch("updates", queryset=MaintenanceUpdate.objects.order_by("-display_at", "-id")),
        Prefetch("components", queryset=Component.objects.public()),
    )


def feed_entries(component: Component | None = None) -> list[FeedEntry]:
    """The most recently changed incidents and maintenances (public only), newest first."""
    incidents = public_incidents()
    maintenances = public_maintenances()
    if component is not None:
        incidents = incidents.filter(affected__component=component)
        maintenances = maintenances.filter(components=component)
    incidents = incidents.order_by("-updated_at", "-id")[:FEED_LIMIT]
    maintenances = maintenances.order_by("-updated_at", "-id")[:FEED_LIMIT]
    entries = chain(
        (incident_entry(i) for i in incidents), (maintenance_entry(m) for m in maintenances)
    )
    return sorted(entries, key=lambda e: e.updated, reverse=True)[:FEED_LIMIT]


class IncidentFeed(Feed):
    """Every public incident and maintenance."""

    feed_type = Rss201rev2Feed

    def title(self) -> str:
        return f"{settings.SITE_NAME}: incidents and maintenance"

    def link(self) -> str:
        return f"{settings.SITE_URL}/"

    def description(self) -> str:
        return f"Incidents and scheduled maintenance of {settings.SITE_NAME}."

    def items(self) -> list[FeedEntry]:
        return feed_entries()

    def item_title(self, item: FeedEntry) -> str:
        return item.title

    def item_link(self, item: FeedEntry) -> str:
        return item.link

    def item_guid(self, item: FeedEntry) -> str:
        return item.link

    item_guid_is_permalink = True

    def item_description(self, item: FeedEntry) -> str:
        return item.content

    def item_pubdate(self, item: FeedEntry) -> datetime:
        return item.published

    def item_updateddate(self, item: FeedEntry) -> datetime:
        return item.updated

    def item_categories(self, item: FeedEntry) -> tuple[str, ...]:
        return item.categories


class IncidentAtomFeed(IncidentFeed):
    feed_type = Atom1Feed
    subtitle = IncidentFeed.description


class ComponentFeed(IncidentFeed):
    """The incidents and maintenance that touch one public component."""

    def get_object(self, request: HttpRequest, slug: str) -> Component:
        component = Component.objects.public().filter(slug=slug).first()
        if component is None:
            raise Http404("No such component")
        return component

    def title(self, obj: Component) -> str:
        return f"{settings.SITE_NAME}: {obj.name}"

    def link(self, obj: Component) -> str:
        return f"{settings.SITE_URL}/"

    def description(self, obj: Component) -> str:
        return f"Incidents and scheduled maintenance affecting {obj.name}."

    def items(self, obj: Component) -> list[FeedEntry]:
        return feed_entries(obj)


class ComponentAtomFeed(ComponentFeed):
    feed_type = Atom1Feed
    subtitle = ComponentFeed.description


all_rss = public_cache(IncidentFeed(), cors=True)
all_atom = public_cache(IncidentAtomFeed(), cors=True)
component_rss = public_cache(ComponentFeed(), cors=True)
component_atom = public_cache(ComponentAtomFeed(), cors=True)
