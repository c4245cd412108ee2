"""The site's two languages: which one a reader sees, and the text for it."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_language


def uses_second_language(language: str | None = None) -> bool:
    """True when the page is shown in the second language of LANGUAGES, the one the
    `*_alt` fields (names, titles, messages) are written in."""
    language = (language or get_language() or "").lower()
    second = settings.LANGUAGES[1][0].lower() if len(settings.LANGUAGES) > 1 else None
    return language == second


def pick(primary: str, alt: str, use_alt: bool) -> str:
    """The `_alt` text when the reader uses the second language and there is one."""
    return alt if use_alt and alt else primary
