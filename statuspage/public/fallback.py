"""When the database is unreachable, answer the public site from the last static snapshot.

The status page is read hardest exactly when things break, so a database outage must not turn
it into a 500. For public paths, a database error (at connection time or during a query) is
answered 200 from `STATIC_SNAPSHOT_DIR`, with an `X-Served-From: snapshot` header and, on
pages, a visible notice saying when the snapshot was taken. A path the snapshot does not have
gets a short 503 with Retry-After, never a stack trace.

The rest (subscriptions, the console, the token API) cannot work without the database: they
answer 503 with Retry-After, JSON on the API and a short page in the visitor's language
elsewhere, pointing to the status page (which the snapshot serves).
"""

from __future__ import annotations

import mimetypes
import re
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import get_language_from_request
from django.views import defaults

from statuspage.public.snapshot import (
    RENDER_ENVIRON,
    is_document,
    is_public_path,
    page_file,
    read_meta,
)
from statuspage.times import moment as moment_text

DATABASE_ERRORS = (OperationalError, InterfaceError)
CONTENT_TYPES = {
    ".json": "application/json",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".ics": "text/calendar; charset=utf-8",
    ".svg": "image/svg+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}
# Kept here rather than in the message catalogues: this must work when everything else fails.
NOTICES = {
    "en": "Live status is temporarily unavailable. This page was last updated at {}.",
    "zh-hans": "实时状态暂时不可用。本页最后更新于 {}。",
}
UNAVAILABLE = {
    "en": "The status page is temporarily unavailable. Please try again in a minute.",
    "zh-hans": "状态页暂时无法访问，请稍后再试。",
}
# (title, what happened, the link to the status page)
DOWN_PAGE = {
    "en": (
        "Temporarily unavailable",
        "This page needs a service that is down at the moment. Please try again in a minute.",
        "Subscribing to updates needs a service that is down at the moment. "
        "Please try again in a minute.",
        "See the current status",
    ),
    "zh-hans": (
        "暂时无法访问",
        "本页面所需的服务暂时不可用，请稍后再试。",
        "订阅更新所需的服务暂时不可用，请稍后再试。",
        "查看当前状态",
    ),
}
DOWN_API_MESSAGE = "The service is temporarily unavailable (its database cannot be reached)."
RETRY_AFTER_SECONDS = 30
BODY_TAG = re.compile(rb"<body[^>]*>", re.IGNORECASE)
DOWN_PAGE_STYLE = (
    "max-width:36rem;margin:3rem auto;padding:0 1rem;font:1rem/1.5 system-ui,sans-serif"
)
NOTICE_STYLE = (
    "margin:0;padding:.75rem 1rem;background:#fff4ce;color:#3b2f00;"
    "border-bottom:2px solid #8a6d00;font:1rem/1.4 system-ui,sans-serif;text-align:center"
)


def snapshot_root() -> Path | None:
    directory = settings.STATIC_SNAPSHOT_DIR
    return Path(directory) if directory else None


def choose_file(root: Path, path: str, language: str) -> Path | None:
    """The snapshot file for a request path, in the visitor's language when there is one."""
    if is_document(path):
        candidates = [path.lstrip("/")]
    else:
        candidates = [page_file(path, language), page_file(path)]
    for relative in candidates:
        candidate = (root / relative).resolve()
        # Never outside the snapshot, whatever the path says.
        if candidate.is_file() and candidate.is_relative_to(root.resolve()):
            return candidate
    return None


def moment_in(value: datetime, language: str) -> str:
    with translation.override(language):
        return moment_text(value)


def notice_html(generated_at: datetime | None, language: str) -> bytes:
    if generated_at is None:
        when = format_html("{}", "?")
    else:
        local = timezone.localtime(generated_at)
        when = format_html(
            '<time datetime="{}">{}</time>', local.isoformat(), moment_in(local, language)
        )
    text = NOTICES.get(language, NOTICES["en"])
    message = format_html(text.replace("{}", "{when}"), when=when)
    return format_html(
        '<div class="snapshot-notice" role="status" style="{}">{}</div>', NOTICE_STYLE, message
    ).encode()


def snapshot_response(request: HttpRequest) -> HttpResponse:
    language = get_language_from_request(request)
    root = snapshot_root()
    meta = read_meta(root) if root else None
    found = choose_file(root, request.path, language) if root and meta else None
    if found is None:
        response = HttpResponse(
            UNAVAILABLE.get(language, UNAVAILABLE["en"]),
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = "30"
        response["Cache-Control"] = "no-store"
        return response
    content = found.read_bytes()
    content_type = CONTENT_TYPES.get(found.suffix) or (
        mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    )
    generated_at = None
    if meta.get("generated_at"):
        generated_at = datetime.fromisoformat(meta["generated_at"])
    if found.suffix == ".html":
        notice = notice_html(generated_at, language)
        content, count = BODY_TAG.subn(lambda m: m.group(0) + notice, content, count=1)
        if not count:
            content = notice + content
    response = HttpResponse(content, content_type=content_type)
    response["X-Served-From"] = "snapshot"
    response["Cache-Control"] = "public, max-age=5"
    response["Content-Language"] = language
    if generated_at is not None:
        response["X-Snapshot-Generated-At"] = generated_at.isoformat()
    if found.suffix != ".html":
        response["Access-Control-Allow-Origin"] = "*"
    return response


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 for what the snapshot cannot serve: JSON on the token API, a short page elsewhere."""
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"errors": [{"field": None, "message": DOWN_API_MESSAGE}]}, status=503
        )
    else:
        language = get_language_from_request(request)
        if language not in DOWN_PAGE:
            language = "en"
        title, text, subscribe_text, link = DOWN_PAGE[language]
        if request.path.startswith("/subscriptions"):
            text = subscribe_text
        response = HttpResponse(
            format_html(
                '<!doctype html><html lang="{}"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                "<title>{}</title></head>"
                '<body style="{}"><h1 style="font-size:1.4rem">{}</h1><p>{}</p>'
                '<p><a href="/">{}</a></p></body></html>',
                language,
                title,
                DOWN_PAGE_STYLE,
                title,
                text,
                link,
            ),
            status=503,
            content_type="text/html; charset=utf-8",
        )
        response["Content-Language"] = language
        response["Vary"] = "Accept-Language, Cookie"
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def should_fall_back(request: HttpRequest) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and is_public_path(request.path)
        and not request.META.get(RENDER_ENVIRON)
    )


def without_database(request: HttpRequest) -> HttpResponse | None:
    """The answer to a request that failed because the database is unreachable: the snapshot
    for the public site, a 503 for the rest; None for the snapshot renderer's own requests,
    which must fail rather than copy the old snapshot into the new one."""
    if request.META.get(RENDER_ENVIRON):
        return None
    if should_fall_back(request):
        return snapshot_response(request)
    return unavailable_response(request)


def server_error(request: HttpRequest) -> HttpResponseBase:
    """handler500: a database error raised outside a view (a middleware saving the session)
    is answered as one raised inside it; anything else is Django's plain 500."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_ERRORS):
        response = without_database(request)
        if response is not None:
            return response
    return defaults.server_error(request)


class SnapshotFallbackMiddleware:
    """Answer public GETs from the static snapshot when the database is unreachable."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            return self.get_response(request)
        except DATABASE_ERRORS:
            # Reached only when exceptions propagate (DEBUG_PROPAGATE_EXCEPTIONS); otherwise
            # process_exception below (or server_error) has already answered.
            response = without_database(request)
            if response is None:
                raise
            return response

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, DATABASE_ERRORS):
            return without_database(request)
        return None
