"""statuspage.cache_backend.ForgivingRedisCache against a real Redis that goes away."""

import logging

import pytest

from statuspage import cache_backend
from statuspage.cache_backend import ForgivingRedisCache
from tests.servers import PrivateRedis


@pytest.fixture
def redis_server(tmp_path):
    server = PrivateRedis(tmp_path).start()
    yield server
    server.stop()


def make_cache(server: PrivateRedis) -> ForgivingRedisCache:
    options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    return ForgivingRedisCache(server.url(), {"OPTIONS": options})


def test_it_is_a_plain_redis_cache_while_redis_is_up(redis_server):
    cache = make_cache(redis_server)
    cache.set("a", {"b": 1}, 60)
    assert cache.get("a") == {"b": 1}
    assert cache.add("n", 0, 60) is True
    assert cache.incr("n") == 1
    with pytest.raises(ValueError):
        cache.incr("missing")


def test_while_redis_is_down_reads_miss_writes_are_dropped_and_nothing_raises(
    redis_server, caplog, monkeypatch
):
    cache = make_cache(redis_server)
    cache.set("kept", "value", 60)
    redis_server.stop()
    monkeypatch.setattr(cache_backend, "LOG_EVERY_SECONDS", 0)
    with caplog.at_level(logging.WARNING, logger="statuspage.cache_backend"):
        assert cache.get("kept") is None
        assert cache.get("kept", "default") == "default"
        assert cache.get_many(["kept", "other"]) == {}
        assert cache.has_key("kept") is False
        cache.set("x", 1, 60)
        assert cache.set_many({"x": 1, "y": 2}, 60) == ["x", "y"]
        assert cache.add("counter", 0, 60) is False
        # A rate-limit counter starts again from zero: the limit lets the request through.
        assert cache.incr("counter") == 1
        assert cache.delete("x") is False
        cache.delete_many(["x", "y"])
        assert cache.touch("x", 60) is False
        cache.clear()
    assert "Cache unavailable (get:" in caplog.text


def test_it_logs_an_outage_once_in_a_while_rather_than_on_every_call(redis_server, caplog):
    cache = make_cache(redis_server)
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="statuspage.cache_backend"):
        for _ in range(20):
            cache.get("anything")
    assert caplog.text.count("Cache unavailable") == 1


def test_it_works_again_once_redis_is_back(redis_server):
    cache = make_cache(redis_server)
    redis_server.stop()
    assert cache.get("k") is None
    redis_server.start()
    cache.set("k", "v", 60)
    assert cache.get("k") == "v"
