"""Times as the site counts them: the days of the site's time zone (`day_bounds`), and how a
moment is written for people: one format per language, always with the UTC offset (never an
ambiguous zone abbreviation such as "CST")."""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache

from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext

FORMATS = {"en": "j M Y, H:i", "zh-hans": "Y年n月j日 H:i"}
DAY_FORMATS = {"en": "j M Y", "zh-hans": "Y年n月j日"}


def moment(value: datetime) -> str:
    """`value` in the site's time zone and the active language, e.g. "29 Nov 2026, 10:05
    (UTC+08:00)" or "2026年11月29日 10:05（UTC+08:00）"."""
    local = timezone.localtime(value)
    offset = local.strftime("%z")
    language = (translation.get_language() or "en").lower()
    return gettext("%(moment)s (UTC%(offset)s)") % {
        "moment": date_format(local, FORMATS.get(language, FORMATS["en"])),
        "offset": f"{offset[:3]}:{offset[3:]}",
    }


def day_bounds(day: date, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    """Start and end of a calendar day in the current time zone (TIME_ZONE unless activated
    otherwise): midnight to the next midnight through the calendar, not 86,400 s, so that DST
    days keep their length. The one way a day's bounds are computed: the uptime bars, the daily
    rollups, reports, history and filters by date all count the same days."""
    return _day_bounds(day, tz or timezone.get_current_timezone())


@lru_cache(maxsize=4096)
def _day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    following = day + timedelta(days=1)
    return start, datetime(following.year, following.month, following.day, tzinfo=tz)


def local_day(moment: datetime) -> date:
    """The calendar day `moment` falls on in the current time zone."""
    return timezone.localtime(moment).date()


def day_start(moment: datetime) -> datetime:
    """Midnight of the day `moment` falls on, in the current time zone."""
    return day_bounds(local_day(moment))[0]


def to_the_second(value: datetime) -> str:
    """`value` in the site's time zone, to the second and in no language, for staff alerts
    about monitoring: "2026-11-29 10:00:00 UTC+08:00"."""
    local = timezone.localtime(value)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} UTC{offset[:3]}:{offset[3:]}"


def day(value: datetime) -> str:
    """The date alone, in the site's time zone: "13 Dec 2026", "2026年12月13日"."""
    language = (translation.get_language() or "en").lower()
    return date_format(timezone.localtime(value), DAY_FORMATS.get(language, DAY_FORMATS["en"]))


def same_time_of_day(moments: list[datetime], reference: datetime) -> bool:
    """Whether every moment is at `reference`'s local time of day (a series nobody moved)."""
    wall_clock = timezone.localtime(reference).time()
    return all(timezone.localtime(m).time() == wall_clock for m in moments)
