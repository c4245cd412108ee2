from django.conf import settings
from django.utils import timezone


def time_zone_label(now=None) -> str:
    """The zone the site shows times in, with its offset now: "Asia/Shanghai (UTC+08:00)"."""
    offset = timezone.localtime(now).strftime("%z")
    return f"{settings.TIME_ZONE} (UTC{offset[:3]}:{offset[3:]})"


def site(request):
    # The footer of every page names the time zone, including pages (subscribe, errors) that
    # are not built by the public views' page_context.
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "time_zone_label": time_zone_label(),
    }
