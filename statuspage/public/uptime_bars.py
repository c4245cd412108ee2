"""The 90-day uptime bar as HTML: its list items and the words each piece of it reads as.

Rendered with `format_html` rather than a template: 90 days times 40 components is where the
page's size and rendering time would otherwise go. Each day is drawn by an empty `<i>`; a list
item holds a run of quiet days or a single day with something to tell (see `uptime.bar_runs`),
with one text that is both what a screen reader reads and, on hover or focus, the tooltip. Only
the days with something to tell take the keyboard focus, so that the page is not 3,600 tab stops
long.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import lru_cache

from django.utils.formats import date_format
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from statuspage import status as rules
from statuspage.public import uptime
from statuspage.public.view_models import STATUS_WORDS

TAB_STOP = mark_safe(' tabindex="0"')


def bar_items(segments: Sequence[uptime.DaySegment]) -> SafeString:
    """The bar's `<li>` items, oldest day first (the `_bar.html` template holds the list)."""
    language = get_language()
    half = len(segments) / 2
    start = 0
    items = []
    for run in uptime.bar_runs(segments):
        first = run[0]
        # Quiet operational days, most of the bar, are drawn in the default colour.
        classes = [] if first.is_quiet and first.has_data else [f"seg-{first.level}"]
        if first.is_long:
            classes.append("seg-long")
        if start >= half:
            classes.append("tip-end")  # the tooltip opens leftwards, inside the bar
        items.append(
            (
                attributes(tuple(classes), len(run), not first.is_quiet),
                run_text(run, language),
                day_marks(len(run)),
            )
        )
        start += len(run)
    return format_html_join("", "<li{}><span>{}</span>{}</li>", items)


# The pieces below take few distinct values on a page: cached, so that a bar costs little more
# than its texts.
@lru_cache(maxsize=512)
def attributes(classes: tuple[str, ...], days: int, tab_stop: bool) -> SafeString:
    """A list item's attributes: its colour classes, its run length when it holds several days
    (a class per length in status.css, not a style attribute: the page's Content-Security-Policy
    allows no inline styles), and a tab stop when it has something to tell."""
    return format_html(
        "{}{}{}",
        format_html(' class="{}"', " ".join(classes)) if classes else "",
        format_html(' data-days="{}"', days) if days > 1 else "",
        TAB_STOP if tab_stop else "",
    )


@lru_cache(maxsize=512)
def day_marks(days: int) -> SafeString:
    """One empty `<i>` per day, which status.css draws."""
    return mark_safe("<i></i>" * days)


def run_text(run: list[uptime.DaySegment], language: str) -> str:
    """A piece of the bar in words, HTML-escaped: for a day with something to tell, its date,
    uptime, worst status and incidents; for a run of quiet days, its dates and "no incidents"."""
    first = run[0]
    if not first.is_quiet:
        return day_text(first, language)
    uptime_text = uptime.format_percent(uptime.uptime_percent(run))
    return _quiet_text(first.day, run[-1].day, first.has_data, uptime_text, language)


def day_text(segment: uptime.DaySegment, language: str) -> str:
    """One day of the bar in words, HTML-escaped: its date, uptime, worst status, incidents."""
    return _day_text(
        segment.day,
        segment.has_data,
        uptime.format_percent(segment.uptime),
        segment.level,
        tuple(dict.fromkeys(i.title for i in segment.incidents)),
        language,
    )


# A day often reads the same on several bars (an outage upstream, an incident on several
# components): cached, as the bars are where the page's rendering time would otherwise go.
@lru_cache(maxsize=8192)
def _day_text(
    day: date, has_data: bool, uptime_text: str, level: str, titles: tuple, language: str
) -> str:
    label = date_format(day, "DATE_FORMAT")
    if not has_data:
        text = gettext("%(day)s: no data") % {"day": label}
    elif level != rules.OPERATIONAL:
        text = gettext("%(day)s: %(uptime)s uptime, %(status)s") % {
            "day": label,
            "uptime": uptime_text,
            "status": str(STATUS_WORDS[level]).lower(),
        }
    else:
        text = gettext("%(day)s: %(uptime)s uptime") % {"day": label, "uptime": uptime_text}
    if titles:
        # The punctuation between the parts is the language's own (Chinese has its own comma).
        text = gettext("%(day)s; incidents: %(titles)s") % {
            "day": text,
            "titles": ", ".join(titles),
        }
    return escape(text)


@lru_cache(maxsize=4096)
def _quiet_text(first: date, last: date, has_data: bool, uptime_text: str, language: str) -> str:
    label = date_format(first, "DATE_FORMAT")
    if last != first:
        label = gettext("%(first)s – %(last)s") % {
            "first": label,
            "last": date_format(last, "DATE_FORMAT"),
        }
    if not has_data:
        return escape(gettext("%(day)s: no data") % {"day": label})
    text = gettext("%(day)s: %(uptime)s uptime, no incidents")
    return escape(text % {"day": label, "uptime": uptime_text})
