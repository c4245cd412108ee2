"""Staff-written Markdown, rendered, then sanitised with an allowlist before a browser sees it."""

import markdown as md
import nh3
from django.utils.safestring import SafeString, mark_safe

from statuspage.text import clean_text

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "b",
    "i",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}


# Every page (and email) that shows staff Markdown has its own h1 (the title) and h2 (its
# sections, such as "Postmortem"): a "# Root cause" in the text becomes an h3, below them.
HEADING_BASE_LEVEL = 3


def render_markdown(text: str, base_level: int = HEADING_BASE_LEVEL) -> SafeString:
    """Markdown to HTML that is safe to insert into a page: no scripts, no event handler
    attributes, no `javascript:` or `data:` links, every link opened without a referrer, and
    headings shifted so that `#` is an h`base_level` (capped at h6)."""
    html = md.markdown(
        clean_text(text or ""),
        extensions=["extra", "sane_lists", "toc"],
        extension_configs={"toc": {"baselevel": base_level}},
        output_format="html",
    )
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above
