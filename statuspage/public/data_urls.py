"""The public site's machine-readable side: Statuspage API v2, feeds, calendar, badges."""

from django.urls import path

from statuspage.public import api_v2, badges, calendar, feeds

urlpatterns = [
    path("api/v2/summary.json", api_v2.summary, name="api-v2-summary"),
    path("api/v2/status.json", api_v2.status, name="api-v2-status"),
    path("api/v2/components.json", api_v2.components, name="api-v2-components"),
    path("api/v2/incidents.json", api_v2.incidents, name="api-v2-incidents"),
    path(
        "api/v2/incidents/unresolved.json",
        api_v2.unresolved_incidents,
        name="api-v2-incidents-unresolved",
    ),
    path(
        "api/v2/scheduled-maintenances.json",
        api_v2.scheduled_maintenances,
        name="api-v2-maintenances",
    ),
    path(
        "api/v2/scheduled-maintenances/upcoming.json",
        api_v2.upcoming_maintenances,
        name="api-v2-maintenances-upcoming",
    ),
    path(
        "api/v2/scheduled-maintenances/active.json",
        api_v2.active_maintenances,
        name="api-v2-maintenances-active",
    ),
    path("feeds/incidents.rss", feeds.all_rss, name="feed-rss"),
    path("feeds/incidents.atom", feeds.all_atom, name="feed-atom"),
    path("feeds/components/<slug:slug>.rss", feeds.component_rss, name="component-feed-rss"),
    path("feeds/components/<slug:slug>.atom", feeds.component_atom, name="component-feed-atom"),
    # The same feeds in another language of LANGUAGES (the view 404s for any other code).
    path("feeds/<slug:language>/incidents.rss", feeds.all_rss, name="feed-rss-language"),
    path("feeds/<slug:language>/incidents.atom", feeds.all_atom, name="feed-atom-language"),
    path(
        "feeds/<slug:language>/components/<slug:slug>.rss",
        feeds.component_rss,
        name="component-feed-rss-language",
    ),
    path(
        "feeds/<slug:language>/components/<slug:slug>.atom",
        feeds.component_atom,
        name="component-feed-atom-language",
    ),
    path("calendar/maintenance.ics", calendar.maintenance_calendar, name="maintenance-calendar"),
    path("badge.svg", badges.page_badge, name="badge"),
    path("components/<slug:slug>/badge.svg", badges.component_badge, name="component-badge"),
]
