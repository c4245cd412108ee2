from django import template

from statuspage import times
from statuspage.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: str):
    return render_markdown(text)


@register.filter
def moment(value):
    """A time as people read it here: one format per language, with the UTC offset."""
    return times.moment(value) if value else ""


@register.filter
def day(value):
    """The date alone, in the language's format."""
    return times.day(value) if value else ""


@register.filter
def same_time_as(moments, reference) -> bool:
    return times.same_time_of_day(list(moments), reference)


@register.filter
def status_label(value: str) -> str:
    """A component status as words ("Partial outage"), never its stored value."""
    from statuspage.models import ComponentStatus

    try:
        return str(ComponentStatus(value).label)
    except ValueError:
        return value


@register.filter
def iso_date(value: str):
    """An ISO 8601 string (as stored in JSON) as a datetime, for the `date` filter."""
    from django.utils.dateparse import parse_datetime

    try:
        return parse_datetime(value) if value else None
    except ValueError:
        return None


@register.filter
def abs_value(value):
    return abs(value) if isinstance(value, int | float) else value


@register.filter
def uptime_bar(segments):
    """The `<li>` items of an uptime bar (`statuspage.public.uptime_bars`)."""
    from statuspage.public.uptime_bars import bar_items

    return bar_items(segments)
