"""How a moment is written for people: one format per language, always with the UTC offset
(never an ambiguous zone abbreviation such as "CST")."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext

FORMATS = {"en": "j M Y, H:i", "zh-hans": "Y年n月j日 H:i"}


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
