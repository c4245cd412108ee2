"""Query strings a page does not read neither fill the cache nor bypass it."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from statuspage.public.caching import canonical_query, near_cache
from tests.public import worlds

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
PATHS = ["/", "/history", "/components/bureau", "/api/v2/summary.json", "/feeds/incidents.rss"]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def stored_keys() -> int:
    """Entries in the shared cache, whichever backend it is, plus the per-process one."""
    cache = caches["public"]
    if isinstance(cache, RedisCache):
        shared = cache._cache.get_client().dbsize()
    elif isinstance(cache, LocMemCache):
        shared = len(cache._cache)
    elif isinstance(cache, DatabaseCache):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(cache._table)}")
            shared = cursor.fetchone()[0]
    else:
        raise AssertionError(f"count the keys of {type(cache).__name__}")
    return shared + len(near_cache.entries)


def test_a_hundred_junk_query_strings_create_no_cache_entries_and_answer_200(db, client):
    worlds.busy(NOW)
    for path in PATHS:
        assert client.get(path).status_code == 200
    before = stored_keys()
    for n in range(100):
        path = PATHS[n % len(PATHS)]
        # (A NUL is refused with a 400 before any page: tests/core/test_nul_bytes.py.)
        junk = [f"x={n}", f"utm_source=mail{n}", f"page={n}&page=1", f"_={n}%07", f"{n}"][n % 5]
        response = client.get(f"{path}?{junk}")
        assert response.status_code == 200, (path, junk)
    assert stored_keys() == before


def test_junk_query_strings_miss_no_cache_either(db, client):
    worlds.busy(NOW)
    clean = client.get("/")
    with CaptureQueriesContext(connection) as queries:
        junk = client.get("/?cachebuster=8675309")
    assert junk.status_code == 200
    assert junk.content == clean.content
    assert junk["ETag"] == clean["ETag"]
    assert len(queries) == 1, "the version read, nothing rendered"


def test_a_page_rendered_for_a_junk_query_string_is_not_shared(db, client):
    worlds.busy(NOW)
    first = client.get("/?marker=reflected-value")
    assert first.status_code == 200
    assert first["Cache-Control"].startswith("private")
    clean = client.get("/")
    assert b"reflected-value" not in clean.content


def test_history_pages_are_cached_by_their_page_number(db, client):
    worlds.busy(NOW)
    before = stored_keys()
    assert client.get("/history?page=1").status_code == 200
    kept = stored_keys()
    assert kept > before
    # Another spelling of the same page is answered from the cache, never kept again.
    for spelling in ("page=01", "page=+1", "page=1&utm=x", "page=%201"):
        response = client.get(f"/history?{spelling}")
        assert response.status_code == 200, spelling
    assert stored_keys() == kept


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ("", True)),
        ("page=2", ("page=2", True)),
        ("page=02", ("page=2", False)),
        ("page=x", ("", False)),
        ("page=1&page=2", ("", False)),
        ("utm_source=x", ("", False)),
        ("utm_source=x&page=3", ("page=3", False)),
    ],
)
def test_the_key_holds_only_the_parameters_the_page_reads(rf, query, expected):
    assert canonical_query(rf.get(f"/history?{query}").GET, {"page": int}) == expected
