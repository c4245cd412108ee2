"""RSS 2.0 and Atom 1.0 feeds of public incidents and maintenance, for the whole page and per
component, on `django.contrib.syndication`.

Each entry is one incident or one maintenance; its id is its public page's address (stable for
its life), its content the timeline of updates, newest first. Feed readers re-read an entry
when its updated date moves, so a new update surfaces without creating a new entry.

Every feed exists once per language: `/feeds/incidents.rss` in the first language of
LANGUAGES, `/feeds/<language>/incidents.rss` in the others (a feed reader sends no
Accept-Language worth trusting, so the language is in the address, and each language's pages
link their own).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import chain

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone, translation
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import format_html
from django.utils.translation import gettext as _

from statuspage.context_processors import site_name
from statuspage.languages import pick, uses_second_language
from statuspage.markdown import render_markdown
from statuspage.models import (
    Component,
    Impact,
    Incident,
    IncidentComponent,
    IncidentStatus,
    IncidentUpdate,
    Maintenance,
    MaintenanceStatus,
    MaintenanceUpdate,
)
from statuspage.public.caching import public_cache
from statuspage.text import clean_text
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
    use_alt = uses_second_language()
    parts = []
    for update in updates:
        parts.append(
            format_html(
                "<p><strong>{}</strong> · {}</p>",
                labels[update.status],
                entry_time(update.display_at),
            )
        )
        body = pick(update.body, update.body_alt, use_alt)
        if body:
            parts.append(str(render_markdown(body)))
    return "\n".join(parts)


def affected_text(names: list[str]) -> str:
    return _("Affected: %(names)s.") % {"names": ", ".join(names)} if names else ""


def incident_entry(incident: Incident) -> FeedEntry:
    """The entry in the active language (titles, messages, names and the words around them)."""
    use_alt = uses_second_language()
    labels = {value: str(label) for value, label in IncidentStatus.choices}
    names = [
        pick(link.component.name, link.component.name_alt, use_alt)
        for link in incident.affected.all()
    ]
    impact = Impact(incident.impact).label if incident.impact in Impact.values else incident.impact
    header = format_html(
        "<p>{} {}</p>",
        format_html(_("Impact: {impact}."), impact=str(impact)),
        affected_text(names),
    )
    title = pick(incident.title, incident.title_alt, use_alt)
    return FeedEntry(
        title=f"{title} [{labels[incident.status]}]",
        link=f"{settings.SITE_URL}/incidents/{incident.pk}",
        published=incident.started_at,
        updated=incident.updated_at,
        content=header + timeline_html(incident.updates.all(), labels),
        categories=("incident", incident.status),
    )


def maintenance_entry(maintenance: Maintenance) -> FeedEntry:
    use_alt = uses_second_language()
    labels = {value: str(label) for value, label in MaintenanceStatus.choices}
    names = [pick(c.name, c.name_alt, use_alt) for c in maintenance.components.all()]
    header = format_html(
        "<p>{} {}</p>",
        format_html(
            _("Scheduled {start} to {end}."),
            start=entry_time(maintenance.starts_at),
            end=entry_time(maintenance.ends_at),
        ),
        affected_text(names),
    )
    text = pick(maintenance.description, maintenance.description_alt, use_alt)
    description = str(render_markdown(text)) if text else ""
    title = pick(maintenance.title, maintenance.title_alt, use_alt)
    return FeedEntry(
        title=f"{title} [{labels[maintenance.status]}]",
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


def xml_safe(value):
    """A feed field without the characters XML 1.0 cannot carry (Django's feed writer raises
    on them): strings, and the strings inside lists and tuples such as categories."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list | tuple):
        return type(value)(xml_safe(item) for item in value)
    return value


class XmlSafeFeedMixin:
    """Cleans every field on its way into the feed generator, so that no stored text (from
    the admin, a config file, rows older than the input checks) can make a feed fail."""

    def __init__(self, *args, **kwargs):
        super().__init__(
            *[xml_safe(a) for a in args], **{k: xml_safe(v) for k, v in kwargs.items()}
        )

    def add_item(self, *args, **kwargs):
        super().add_item(
            *[xml_safe(a) for a in args], **{k: xml_safe(v) for k, v in kwargs.items()}
        )


class SafeRssFeed(XmlSafeFeedMixin, Rss201rev2Feed):
    pass


class SafeAtomFeed(XmlSafeFeedMixin, Atom1Feed):
    pass


class IncidentFeed(Feed):
    """Every public incident and maintenance."""

    feed_type = SafeRssFeed

    def title(self) -> str:
        return _("%(site)s: incidents and maintenance") % {"site": site_name()}

    def link(self) -> str:
        return f"{settings.SITE_URL}/"

    def description(self) -> str:
        return _("Incidents and scheduled maintenance of %(site)s.") % {"site": site_name()}

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
    feed_type = SafeAtomFeed
    subtitle = IncidentFeed.description


class ComponentFeed(IncidentFeed):
    """The incidents and maintenance that touch one public component."""

    def get_object(self, request: HttpRequest, slug: str) -> Component:
        component = Component.objects.public().filter(slug=slug).first()
        if component is None:
            raise Http404("No such component")
        return component

    def title(self, obj: Component) -> str:
        return _("%(site)s: %(name)s") % {"site": site_name(), "name": component_name(obj)}

    def link(self, obj: Component) -> str:
        return f"{settings.SITE_URL}/"

    def description(self, obj: Component) -> str:
        return _("Incidents and scheduled maintenance affecting %(name)s.") % {
            "name": component_name(obj)
        }

    def items(self, obj: Component) -> list[FeedEntry]:
        return feed_entries(obj)


class ComponentAtomFeed(ComponentFeed):
    feed_type = SafeAtomFeed
    subtitle = ComponentFeed.description


def component_name(component: Component) -> str:
    return pick(component.name, component.name_alt, uses_second_language())


def in_language(feed: Feed):
    """The feed as a view that writes in the language named by its address (`language`
    argument; absent: the first language), whatever the request's own."""
    languages = {code for code, _name in settings.LANGUAGES}

    def view(request: HttpRequest, *args, language: str | None = None, **kwargs):
        language = language or settings.LANGUAGE_CODE
        if language not in languages:
            raise Http404("No such language")
        with translation.override(language):
            return feed(request, *args, **kwargs)

    return view


all_rss = public_cache(in_language(IncidentFeed()), cors=True)
all_atom = public_cache(in_language(IncidentAtomFeed()), cors=True)
component_rss = public_cache(in_language(ComponentFeed()), cors=True)
component_atom = public_cache(in_language(ComponentAtomFeed()), cors=True)
