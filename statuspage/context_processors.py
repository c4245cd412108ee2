from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language

from statuspage.languages import pick, uses_second_language


def site_name(language: str | None = None) -> str:
    """The site's name in `language` (default: the active one): SITE_NAME_ALT in the second
    language when it is set."""
    return pick(settings.SITE_NAME, settings.SITE_NAME_ALT, uses_second_language(language))


def feed_prefix(language: str | None = None) -> str:
    """Where the feeds in `language` (default: the active one) live: /feeds/ for the first
    language of LANGUAGES, /feeds/<code>/ for the others (see statuspage.public.feeds)."""
    language = language or get_language() or settings.LANGUAGE_CODE
    return "/feeds/" if language == settings.LANGUAGE_CODE else f"/feeds/{language}/"


def time_zone_label(now=None) -> str:
    """The zone the site shows times in, with its offset now: "Asia/Shanghai (UTC+08:00)"."""
    offset = timezone.localtime(now).strftime("%z")
    return f"{settings.TIME_ZONE} (UTC{offset[:3]}:{offset[3:]})"


def site(request):
    # The footer of every page names the time zone, including pages (subscribe, errors) that
    # are not built by the public views' page_context.
    return {
        "SITE_NAME": site_name(),
        "SITE_URL": settings.SITE_URL,
        "time_zone_label": time_zone_label(),
        "FEEDS": feed_prefix(),
    }
