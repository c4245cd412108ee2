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
