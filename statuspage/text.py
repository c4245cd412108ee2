"""Plain text from outside (staff, the API, probes' upstream servers), made safe to store and to
write into XML (feeds, SVG), iCalendar and HTML, and cut to length (`truncate`, `clip`).

XML 1.0 cannot carry C0 control characters other than tab, newline and carriage return, nor
lone surrogates or U+FFFE/U+FFFF; iCalendar TEXT forbids controls other than tab; PostgreSQL
cannot store NUL. One such character stored in a title used to make every feed answer 500 and
every snapshot fail, so it is dropped where text comes in and again where it goes out (text
already in the database, or written by a path that skips the input boundary).
"""

from __future__ import annotations

import re

# Line breaks are normalised to "\n" first, so "\r" never survives; tab and newline stay.
UNSAFE_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
LINE_BREAKS = re.compile("\r\n?")
LINE_SPACE = re.compile("[\t\n]")


def clean_text(value: str) -> str:
    """Multi-line text: CRLF and CR become LF, other control characters are dropped."""
    if not isinstance(value, str):
        return value
    return UNSAFE_CHARACTERS.sub("", LINE_BREAKS.sub("\n", value))


def clean_line(value: str) -> str:
    """One line (a title, a name): as `clean_text`, and tabs and line breaks become spaces."""
    if not isinstance(value, str):
        return value
    return LINE_SPACE.sub(" ", clean_text(value))


def truncate(text: str, length: int) -> str:
    """`text` in at most `length` characters: when longer, its end is replaced by "…"."""
    return text if len(text) <= length else text[: length - 1] + "…"


def clip(text, length: int) -> str:
    """Upstream text (a response body, an error) as stored: without control characters, which
    no feed, snapshot or PostgreSQL text column can carry, and at most `length` characters."""
    return truncate(clean_text("" if text is None else str(text)), length)


# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value):
    """A CSV cell that a spreadsheet shows as text: one starting like a formula gets a quote
    in front. Numbers (a negative one included) stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
