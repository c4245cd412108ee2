"""HTTP caching for the public site: one rendering per version of what the public sees.

Every public change bumps `SiteState.version` (`SiteState.bump`, from `public_change`), so a
response rendered for version N stays right until N moves. Renderings are kept in Django's
"public" cache with the public version as the cache API's `version=`, under (language, path,
the query parameters the view reads). Entries also expire after `PUBLIC_CACHE_TIMEOUT`
seconds, because a little of what a page shows moves with the clock alone (the day at the end
of the uptime bars, "upcoming").

Two halves, as Django's own cache middleware has (FetchFromCacheMiddleware and
UpdateCacheMiddleware around `cache_page`):

- `public_cache`, on each public view, keeps and serves renderings. Its answers use Django's
  tools: `get_conditional_response` (ETag, Last-Modified, 304: what `condition` runs, called
  here because the ETag is only known once the kept body is read), `patch_cache_control` and
  `patch_vary_headers`.
- `PublicCacheMiddleware` (statuspage/public/early_answers.py), before the session
  middleware, repeats a kept answer before the session, authentication, CSRF, locale, messages
  and two-factor middleware run.

The key holds only the query parameters the page reads (declared with `query=`), in their
canonical form. Any other query string (`?utm_source=…`, a cache-busting `?x=123`) is served
the kept page by the view's half when there is one, and otherwise rendered but not kept: junk
query strings cannot fill the cache, nor make every request a miss.

Kept by hand, because benchmarks/public_page.py shows they pay (Redis in front, 2 busy CPUs):
- `NearCache`, a per-process LRU in front of the shared cache: it saves a Redis round trip and
  the unpickling of the body on every request. Without it (PUBLIC_NEAR_CACHE_SIZE=0) the server
  spent 0.79 ms of CPU per cached `/` and 0.74 ms per `summary.json`, against 0.36-0.41 and
  0.34-0.38 ms with it (a bare Django view: 0.29-0.31 ms).
- Compressing once when kept, not on every answer as GZipMiddleware would: gzip (level 6) of
  the 172 kB front page costs 1.25 ms of CPU, three times a whole cached answer.
- The version read remembered for PUBLIC_VERSION_TTL_MS: otherwise every answer costs a query.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import pickle
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
from django.http import HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date, urlencode

from statuspage.models import SiteState

logger = logging.getLogger(__name__)

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


def etag_for(content: bytes) -> str:
    return '"' + hashlib.blake2b(content, digest_size=12).hexdigest() + '"'


class NearCache:
    """A small per-process LRU in front of Django's cache. Keys name a version, so an entry
    never goes stale while it lives; it saves a round trip to a shared cache (Redis) and the
    unpickling of the body on every request."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.entries: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str):
        with self.lock:
            found = self.entries.get(key)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self.entries[key]
                return None
            self.entries.move_to_end(key)
            return found[1]

    def set(self, key: str, value: object, timeout: float) -> None:
        with self.lock:
            self.entries[key] = (time.monotonic() + timeout, value)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


near_cache = NearCache(settings.PUBLIC_NEAR_CACHE_SIZE)


def clear_public_cache() -> None:
    """Forget every cached response and the version read (tests start from nothing)."""
    global _last_read
    caches["public"].clear()
    near_cache.clear()
    _last_read = None


def read_kept(keys: list[str], version: int) -> dict[str, object]:
    """The entries found, from this process's LRU, else from the shared cache (one round trip
    for all the keys)."""
    found = {}
    for key in keys:
        value = near_cache.get(f"{version}:{key}")
        if value is not None:
            found[key] = value
    missing = [key for key in keys if key not in found]
    if missing:
        try:
            shared = caches["public"].get_many(missing, version=version)
        except (pickle.UnpicklingError, AttributeError, ImportError, EOFError) as error:
            # Written by another release whose classes differ (a deploy under way): a miss.
            logger.warning("Unreadable public cache entry (%s); rendering again", error)
            shared = {}
        for key, value in shared.items():
            near_cache.set(f"{version}:{key}", value, settings.PUBLIC_CACHE_TIMEOUT)
        found.update(shared)
    return found


def keep(entries: dict[str, object], version: int) -> None:
    timeout = settings.PUBLIC_CACHE_TIMEOUT
    caches["public"].set_many(entries, timeout, version=version)
    for key, value in entries.items():
        near_cache.set(f"{version}:{key}", value, timeout)


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


def request_version(request: HttpRequest) -> tuple[int, datetime]:
    """site_version(), read once per request: the middleware and the view agree on it."""
    if not hasattr(request, "public_version"):
        request.public_version = site_version()
    return request.public_version


def cache_key(changed_at: datetime, language: str, path: str, query_string: str) -> str:
    """Versions restart at 1 in every database: the database's name and the moment the version
    moved keep two sites (or test runs) that share one cache server apart."""
    database = settings.DATABASES["default"]["NAME"]
    digest = hashlib.sha1(f"{database}\n{path}?{query_string}".encode()).hexdigest()
    return f"public:{changed_at.timestamp()}:{language}:{digest}"


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


def accepted_encoding(request: HttpRequest) -> str:
    accepts = request.META.get("HTTP_ACCEPT_ENCODING", "")
    return "gzip" if ACCEPTS_GZIP.search(accepts) else "identity"


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


def body_answer(request: HttpRequest, body: CachedBody, changed_at: datetime) -> HttpResponseBase:
    """The kept body, or a 304 when the request's validators match it."""
    response = HttpResponse(body.content, content_type=body.content_type)
    if body.encoding:
        response["Content-Encoding"] = body.encoding
    if body.negotiated:
        patch_vary_headers(response, ("Accept-Encoding",))
    response["ETag"] = body.etag
    response["Last-Modified"] = http_date(changed_at.timestamp())
    return get_conditional_response(
        request, etag=body.etag, last_modified=int(changed_at.timestamp()), response=response
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
    do; data documents are the same for everybody (kept once, under every language's key).
    `query` names the parameters the view reads, each with the function that reads it
    (`{"page": int}`).
    """
    reads = dict(query or {})

    def decorator(view_func: Callable) -> Callable:
        varies_by_visitor = (not cors) if html is None else html

        @wraps(view_func)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
            if request.method not in ("GET", "HEAD"):
                return view_func(request, *args, **kwargs)
            version, changed_at = request_version(request)
            language = getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE)
            personal = varies_by_visitor and is_personal(request)
            query_string, canonical = canonical_query(request.GET, reads)
            key = cache_key(changed_at, language, request.path, query_string)
            encoding = accepted_encoding(request)
            body_key = f"{key}:{encoding}"
            body = None if personal else read_kept([body_key], version).get(body_key)
            if body is None:
                response = view_func(request, *args, **kwargs)
                if response.status_code != 200 or response.streaming:
                    return finish(response, cors, varies_by_visitor, private=True)
                bodies = representations(response.content, response["Content-Type"])
                if personal or not canonical or not is_shareable(request, response):
                    # Keep the view's own response: it carries the cookies it set.
                    response["ETag"] = bodies["identity"].etag
                    return finish(response, cors, varies_by_visitor, private=True)
                languages = [language]
                if not varies_by_visitor:
                    languages = [code for code, _name in settings.LANGUAGES]
                keys = [cache_key(changed_at, c, request.path, query_string) for c in languages]
                keep({f"{k}:{name}": b for k in keys for name, b in bodies.items()}, version)
                body = bodies[encoding]
            response = body_answer(request, body, changed_at)
            if canonical:
                # PublicCacheMiddleware keeps the answer as it leaves, under this key.
                response.public_cache_key = (version, key)
            return finish(response, cors, varies_by_visitor, private=False)

        wrapper.public_cache = True  # read by serves_kept_answers (decorators keep it: wraps)
        return wrapper

    if view is not None:
        return decorator(view)
    return decorator


def finish(
    response: HttpResponseBase, cors: bool, varies_by_visitor: bool, private: bool
) -> HttpResponseBase:
    response.headers.pop("Cache-Control", None)
    if private:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(
            response,
            public=True,
            max_age=settings.PUBLIC_CACHE_MAX_AGE,
            stale_while_revalidate=settings.PUBLIC_CACHE_STALE_WHILE_REVALIDATE,
            stale_if_error=settings.PUBLIC_CACHE_STALE_IF_ERROR,
        )
    if cors:
        response["Access-Control-Allow-Origin"] = "*"
    if varies_by_visitor:
        patch_vary_headers(response, HTML_VARY)
    return response
