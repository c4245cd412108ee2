"""SVG status badges (shields.io style) for the page and each public component, to embed in
READMEs, wikis and dashboards. The status is written in words, not told by colour alone, and
the badge carries a title and an accessible name.

While the automatic checks are delayed (a `MonitoringStall`), a badge that would say
"operational" says "checks delayed" in grey instead, as the page's banner does: nobody has
seen it working lately. A known problem is still shown as it is.

Badges speak the reader's language: `?lang=zh-hans` in the address (for a page that embeds the
badge in one language), else the request's (Accept-Language, or the language cookie); the
cache keeps one badge per language and the response varies on both headers."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from monitors.models import MonitoringStall, Probe
from statuspage import status as rules
from statuspage.languages import pick, uses_second_language
from statuspage.models import Component
from statuspage.public.caching import public_cache
from statuspage.public.queries import page_story
from statuspage.public.view_models import STATUS_WORDS
from statuspage.public.views import BANNER_TEXT
from statuspage.text import clean_line

# Colours dark enough for white text to meet WCAG AA (4.5:1) on each.
COLOURS = {
    rules.OPERATIONAL: "#1b6e2a",
    rules.MAINTENANCE: "#1d5fa8",
    rules.DEGRADED: "#8a5a00",
    rules.PARTIAL: "#b23c00",
    rules.MAJOR: "#b0182a",
}
INDICATOR_COLOURS = {
    "none": COLOURS[rules.OPERATIONAL],
    "maintenance": COLOURS[rules.MAINTENANCE],
    "minor": COLOURS[rules.DEGRADED],
    "major": COLOURS[rules.PARTIAL],
    "critical": COLOURS[rules.MAJOR],
}
STALE_COLOUR = "#6a737d"  # 4.8:1 with white; lighter than the label
LABEL_COLOUR = "#444d56"
PADDING = 10


def text_width(text: str) -> int:
    """About the width in pixels of `text` in 11 px Verdana; wide characters (CJK) count more."""
    return sum(7 if ord(char) < 128 else 12 for char in text)


@dataclass(frozen=True)
class Badge:
    label: str
    message: str
    colour: str

    def svg(self) -> str:
        # An SVG is XML: a control character in a component's name would break the image.
        label, message = clean_line(self.label), clean_line(self.message)
        label_width = text_width(label) + PADDING
        message_width = text_width(message) + PADDING
        width = label_width + message_width
        title = f"{label}: {message}"
        return format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" '
            'aria-label="{title}"><title>{title}</title>'
            '<rect width="{lw}" height="20" fill="{lc}"/>'
            '<rect x="{lw}" width="{mw}" height="20" fill="{mc}"/>'
            '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" '
            'text-anchor="middle">'
            '<text x="{lx}" y="14">{label}</text>'
            '<text x="{mx}" y="14">{message}</text></g></svg>\n',
            w=width,
            title=title,
            lw=label_width,
            mw=message_width,
            lc=LABEL_COLOUR,
            mc=self.colour,
            lx=label_width / 2,
            mx=label_width + message_width / 2,
            label=label,
            message=message,
        )


def page_badge_for() -> Badge:
    story = page_story()
    if story.tone == "stale":
        return Badge(_("status"), _("checks delayed"), STALE_COLOUR)
    message = str(BANNER_TEXT[story.indicator]).lower()
    return Badge(_("status"), message, INDICATOR_COLOURS[story.indicator])


def component_badge_for(component: Component) -> Badge:
    """The component's badge in the active language."""
    name = pick(component.name, component.name_alt, uses_second_language())
    if component.status == rules.OPERATIONAL and checks_delayed(component):
        return Badge(name, _("checks delayed"), STALE_COLOUR)
    return Badge(name, str(STATUS_WORDS[component.status]).lower(), COLOURS[component.status])


def checks_delayed(component: Component) -> bool:
    """Whether monitoring has stalled and the component's status comes from its probes."""
    return (
        MonitoringStall.objects.current() is not None
        and Probe.objects.filter(component=component, is_enabled=True).exists()
    )


def lang_parameter(value: str) -> str:
    """`?lang=`'s value as the cache key holds it; ValueError when it names no language."""
    if value.lower() not in {code for code, _name in settings.LANGUAGES}:
        raise ValueError(value)
    return value.lower()


def reader_language(request: HttpRequest) -> str:
    """`?lang=` when it names one of LANGUAGES, else the language the middleware chose."""
    try:
        return lang_parameter(request.GET.get("lang", ""))
    except ValueError:
        return getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)


def svg_response(badge: Badge) -> HttpResponse:
    return HttpResponse(badge.svg(), content_type="image/svg+xml; charset=utf-8")


@require_safe
@xframe_options_exempt
@public_cache(cors=True, html=True, query={"lang": lang_parameter})
def page_badge(request: HttpRequest) -> HttpResponse:
    with translation.override(reader_language(request)):
        return svg_response(page_badge_for())


@require_safe
@xframe_options_exempt
@public_cache(cors=True, html=True, query={"lang": lang_parameter})
def component_badge(request: HttpRequest, slug: str) -> HttpResponse:
    component = Component.objects.public().filter(slug=slug).first()
    if component is None:
        raise Http404("No such component")
    with translation.override(reader_language(request)):
        return svg_response(component_badge_for(component))
