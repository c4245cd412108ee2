"""HTTP caching for the public site: one rendering per version of what the public sees.

Every public change bumps `SiteState.version` in its own transaction, so a response rendered
for version N stays right until N moves. Responses are kept in Django's cache under
(version, language, path); reading the version is one primary-key query, remembered for a
second (PUBLIC_VERSION_TTL_MS). On top: `ETag` (a hash of the body) and `Last-Modified` (when
the version last moved) with 304 answers, and a `Cache-Control` that lets browsers and CDNs
keep a copy for a few seconds, revalidate in the background, and serve their stale copy if we
are down.

Cache entries also expire after `PUBLIC_CACHE_TIMEOUT` seconds, because a little of what a
page shows moves with the clock alone (the day at the end of the uptime bars, "upcoming").

The key holds only the query parameters the page reads (declared with `query=`), in their
canonical form. Any other query string (`?utm_source=…`, a cache-busting `?x=123`) is served
the cached page when there is one, and otherwise rendered but not kept: junk query strings
cannot fill the cache, nor make every request a miss.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import wraps

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date, urlencode

from statuspage.models import SiteState

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
HTML_VARY = ("Accept-Language", "Cookie")


# Compressed once when cached, not on every request: the pages are mostly repeated markup.
GZIP_MINIMUM = 1024
ACCEPTS_GZIP = re.compile(r"\bgzip\b")


@dataclass(frozen=True)
class CachedBody:
    """One representation of a response (plain or gzip), as kept in the cache. The two are
    kept under two keys, so that a request reads only the bytes it sends."""

    content: bytes
    content_type: str
    etag: str
    encoding: str = ""
    # True when a gzip representation exists: the response then varies on Accept-Encoding.
    negotiated: bool = False


def representations(content: bytes, content_type: str) -> dict[str, CachedBody]:
    """The plain body, and a gzip one when it pays (its own ETag: another representation)."""
    etag = etag_for(content)
    if len(content) < GZIP_MINIMUM:
        plain = CachedBody(content, content_type, etag)
        return {"identity": plain, "gzip": plain}
    compressed = gzip.compress(content, compresslevel=6, mtime=0)
    return {
        "identity": CachedBody(content, content_type, etag, negotiated=True),
        "gzip": CachedBody(compressed, content_type, etag[:-1] + '-gzip"', "gzip", True),
    }


class NearCache:
    """A small per-process LRU in front of Django's cache. Keys name a version, so an entry
    never goes stale while it lives; it saves a round trip to a shared cache (Redis) and the
    unpickling of the body on every request."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.entries: OrderedDict[str, tuple[float, CachedBody]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> CachedBody | None:
        with self.lock:
            found = self.entries.get(key)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self.entries[key]
                return None
            self.entries.move_to_end(key)
            return found[1]

    def set(self, key: str, body: CachedBody, timeout: float) -> None:
        with self.lock:
            self.entries[key] = (time.monotonic() + timeout, body)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


near_cache = NearCache()


def clear_public_cache() -> None:
    """Forget every cached response and the version read (tests start from nothing)."""
    global _last_read
    caches["public"].clear()
    near_cache.clear()
    _last_read = None


def cached_body(key: str) -> CachedBody | None:
    body = near_cache.get(key)
    if body is None:
        body = caches["public"].get(key)
        if body is not None:
            near_cache.set(key, body, settings.PUBLIC_CACHE_TIMEOUT)
    return body


def keep_bodies(bodies: dict[str, CachedBody]) -> None:
    timeout = settings.PUBLIC_CACHE_TIMEOUT
    caches["public"].set_many(bodies, timeout)
    for key, body in bodies.items():
        near_cache.set(key, body, timeout)


# (read at, version, changed at), per process: see site_version().
_last_read: tuple[float, int, datetime] | None = None


def site_version() -> tuple[int, datetime]:
    """The public version and when it last moved: one primary-key lookup, remembered in the
    process for PUBLIC_VERSION_TTL_MS. A cached page then costs no database work at all, and
    the public sees a change at most that much later."""
    global _last_read
    ttl = settings.PUBLIC_VERSION_TTL_MS / 1000
    last = _last_read
    if ttl and last is not None and time.monotonic() - last[0] < ttl:
        return last[1], last[2]
    row = SiteState.objects.filter(pk=1).values_list("version", "changed_at").first()
    version, changed_at = row if row is not None else (1, EPOCH)
    _last_read = (time.monotonic(), version, changed_at)
    return version, changed_at


def cache_key(version: int, changed_at: datetime, language: str, full_path: str) -> str:
    """Versions restart at 1 in every database: the database's name and the moment the version
    moved keep two sites (or test runs) that share one cache server apart."""
    database = connection.settings_dict["NAME"]
    digest = hashlib.sha1(f"{database}\n{full_path}".encode()).hexdigest()
    return f"public:{version}:{changed_at.timestamp()}:{language}:{digest}"


def canonical_query(query: QueryDict, reads: Mapping[str, Callable[[str], object]]):
    """(The query string the cache key holds, whether a rendering may be kept): only the
    parameters the page reads, each once, in the form its reader gives back (`page=1`, not
    `page=01`). Anything else still answers, from the cache or rendered, but is not kept."""
    kept = []
    canonical = True
    for name, values in query.lists():
        reader = reads.get(name)
        if reader is None or len(values) != 1:
            canonical = False
            continue
        try:
            value = str(reader(values[0]))
        except (TypeError, ValueError):
            canonical = False
            continue
        canonical = canonical and value == values[0]
        kept.append((name, value))
    return urlencode(sorted(kept)), canonical


def cache_control(private: bool = False) -> str:
    if private:
        return "private, no-cache"
    return (
        f"public, max-age={settings.PUBLIC_CACHE_MAX_AGE}, "
        f"stale-while-revalidate={settings.PUBLIC_CACHE_STALE_WHILE_REVALIDATE}, "
        f"stale-if-error={settings.PUBLIC_CACHE_STALE_IF_ERROR}"
    )


def etag_for(content: bytes) -> str:
    return '"' + hashlib.blake2b(content, digest_size=12).hexdigest() + '"'


def is_personal(request: HttpRequest) -> bool:
    """A visitor with a session (staff signed in) may see a page made for them: never shared."""
    return settings.SESSION_COOKIE_NAME in request.COOKIES


def is_shareable(request: HttpRequest, response: HttpResponseBase) -> bool:
    """A rendering that set a cookie or used a CSRF token belongs to one visitor only."""
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
    )


def public_cache(
    view: Callable | None = None,
    *,
    cors: bool = False,
    html: bool | None = None,
    query: Mapping[str, Callable[[str], object]] | None = None,
):
    """Cache a public GET view per (SiteState.version, language, path, the query parameters
    it reads), with ETag, Last-Modified, 304s and a public Cache-Control.

    `cors=True` adds `Access-Control-Allow-Origin: *` (the JSON API, badges, feeds). `html`
    (default: not `cors`) makes the response vary on Accept-Language and Cookie, as the pages
    do; data documents are the same for everybody. `query` names the parameters the view
    reads, each with the function that reads it (`{"page": int}`).
    """
    reads = dict(query or {})

    def decorator(view_func: Callable) -> Callable:
        varies_by_visitor = (not cors) if html is None else html

        @wraps(view_func)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
            if request.method not in ("GET", "HEAD"):
                return view_func(request, *args, **kwargs)
            version, changed_at = site_version()
            language = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
            if not varies_by_visitor:
                language = "-"
            personal = varies_by_visitor and is_personal(request)
            query_string, canonical = canonical_query(request.GET, reads)
            full_path = f"{request.path}?{query_string}" if query_string else request.path
            key = cache_key(version, changed_at, language, full_path)
            encoding = (
                "gzip" if ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")) else ""
            )
            body: CachedBody | None = None
            if not personal:
                body = cached_body(f"{key}:{encoding or 'identity'}")
            if body is None:
                response = view_func(request, *args, **kwargs)
                if response.status_code != 200 or response.streaming:
                    return finish(response, cors, varies_by_visitor, private=True)
                bodies = representations(response.content, response["Content-Type"])
                if personal or not canonical or not is_shareable(request, response):
                    # Keep the view's own response: it carries the cookies it set.
                    response["ETag"] = bodies["identity"].etag
                    return finish(response, cors, varies_by_visitor, private=True)
                keep_bodies({f"{key}:{name}": b for name, b in bodies.items()})
                body = bodies[encoding or "identity"]
            response = HttpResponse(body.content, content_type=body.content_type)
            if body.encoding:
                response["Content-Encoding"] = body.encoding
            if body.negotiated:
                patch_vary_headers(response, ("Accept-Encoding",))
            response["ETag"] = body.etag
            response["Last-Modified"] = http_date(changed_at.timestamp())
            response = get_conditional_response(
                request,
                etag=body.etag,
                last_modified=int(changed_at.timestamp()),
                response=response,
            )
            return finish(response, cors, varies_by_visitor, private=False)

        return wrapper

    if view is not None:
        return decorator(view)
    return decorator


def finish(
    response: HttpResponseBase, cors: bool, varies_by_visitor: bool, private: bool
) -> HttpResponseBase:
    response["Cache-Control"] = cache_control(private)
    if cors:
        response["Access-Control-Allow-Origin"] = "*"
    if varies_by_visitor:
        patch_vary_headers(response, HTML_VARY)
    return response
