"""The early answer: a kept public answer repeated before most of the middleware runs.

`PublicCacheMiddleware` sits in MIDDLEWARE after the security, NUL, static-file, snapshot,
stall-watch and headers middleware, and before the session one. In the manner of Django's
FetchFromCacheMiddleware, it answers a GET or HEAD for a `public_cache` view
(statuspage.public.caching) from the cache before the session, authentication, CSRF, locale,
messages and two-factor middleware run: a cached page then costs little more than a bare Django
view (benchmarks/public_page.py).

- **Language.** It picks the language as LocaleMiddleware does (the site has no language prefix
  in its URLs: the language cookie, then Accept-Language, then LANGUAGE_CODE), and the key holds
  it: only an answer rendered in that language is repeated.
- **Headers.** The first time a kept rendering goes the whole way, its answer is noted as it
  left the inner middleware, body and headers (X-Frame-Options, Content-Language, Vary, ...),
  and the early answer repeats it; the middleware above this one (security headers, CSP) run
  on every answer.
- **Who.** A visitor with a session (staff signed in) always goes the whole way and gets a page
  rendered for them, never shared; so do other methods, query strings the view does not read,
  and addresses of views that are not cached.
- **Invalidation.** Keys carry the public version, as the view's half does: `SiteState.bump`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import get_conditional_response

from statuspage.public.caching import (
    accepted_encoding,
    cache_key,
    is_personal,
    keep,
    read_kept,
    request_version,
)

# Headers of one answer, never repeated by the early answer; and those a 304 does not carry.
OWN_HEADERS = {"date", "set-cookie"}
BODY_HEADERS = {"content-type", "content-encoding", "content-length"}
CONDITIONAL = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
)


@dataclass(frozen=True)
class KeptAnswer:
    """A 200 as it left the inner middleware, for the early answer to repeat."""

    content: bytes
    # As Django's ResponseHeaders stores them: (lower-case name, (name, value)).
    headers: tuple[tuple[str, tuple[str, str]], ...]
    etag: str


@lru_cache(maxsize=1024)
def serves_kept_answers(urlconf: str, path_info: str) -> bool:
    """Whether the view at that address is a `public_cache` one: the other addresses (the
    console, /health, a 404) go straight on, without a look in the shared cache."""
    try:
        return getattr(resolve(path_info, urlconf).func, "public_cache", False)
    except Resolver404:
        return False


class PublicCacheMiddleware:
    """Answers a kept public rendering before the session, authentication, CSRF, locale,
    messages and two-factor middleware run (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if (
            request.method not in ("GET", "HEAD")
            or is_personal(request)
            or not serves_kept_answers(settings.ROOT_URLCONF, request.path_info)
        ):
            return self.get_response(request)
        try:
            version, changed_at = request_version(request)
        except DatabaseError:
            # The view fails the same way, and the snapshot fallback answers for it.
            return self.get_response(request)
        # LocaleMiddleware's pick, for URLs without a language prefix (this site has none).
        language = translation.get_language_from_request(request)
        key = cache_key(changed_at, language, request.path, request.META.get("QUERY_STRING", ""))
        answer_key = f"{key}:{accepted_encoding(request)}:answer"
        kept = read_kept([answer_key], version).get(answer_key)
        if kept is not None:
            return early_answer(request, kept, changed_at)
        response = self.get_response(request)
        if (
            getattr(response, "public_cache_key", None) == (version, key)
            and response.status_code == 200
            and not response.cookies
        ):
            headers = tuple(
                (n.lower(), (n, v)) for n, v in response.items() if n.lower() not in OWN_HEADERS
            )
            keep({answer_key: KeptAnswer(response.content, headers, response["ETag"])}, version)
        return response


def early_answer(request: HttpRequest, kept: KeptAnswer, changed_at: datetime):
    response = HttpResponse(kept.content)
    # Django checked these headers when the whole way set them: copied into the store as they
    # are, they cost half of setting them again one by one (~12 us of a ~90 us answer).
    response.headers._store = dict(kept.headers)
    if any(header in request.META for header in CONDITIONAL):
        conditional = get_conditional_response(
            request, etag=kept.etag, last_modified=int(changed_at.timestamp()), response=response
        )
        if conditional is not response:  # a 304, with the headers the whole way gives it
            for lower, (name, value) in kept.headers:
                if lower not in BODY_HEADERS:
                    conditional[name] = value
            conditional["Content-Length"] = "0"
            return conditional
    return response
