"""Django's Redis cache, made to degrade instead of fail when Redis is unreachable.

Nothing this site keeps in the cache is the only copy of anything: public pages can be rendered
again (or served from the snapshot), and a rate-limit counter that cannot be read lets the
request through. So while Redis is down, reads miss, writes are dropped and counters start
from zero, and the error is logged (at most every LOG_EVERY_SECONDS per process, not once per
request). The socket timeouts (settings.CACHE_SOCKET_TIMEOUT_MS) keep a Redis that hangs from
holding every request up.
"""

from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
LOG_EVERY_SECONDS = 30.0


class ForgivingRedisCache(RedisCache):
    """RedisCache whose operations never raise a Redis error."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._logged_at = float("-inf")
        self._log_lock = threading.Lock()

    def _failed(self, operation: str, error: RedisError) -> None:
        with self._log_lock:
            now = time.monotonic()
            if now - self._logged_at < LOG_EVERY_SECONDS:
                return
            self._logged_at = now
        logger.warning("Cache unavailable (%s: %s); going on without it", operation, error)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError as error:
            self._failed("add", error)
            return False

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as error:
            self._failed("get", error)
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except RedisError as error:
            self._failed("set", error)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except RedisError as error:
            self._failed("touch", error)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError as error:
            self._failed("delete", error)
            return False

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError as error:
            self._failed("get_many", error)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except RedisError as error:
            self._failed("has_key", error)
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except RedisError as error:
            # As if the counter had just been created: a limit does not hold while Redis is
            # down, rather than every limited request failing.
            self._failed("incr", error)
            return delta

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except RedisError as error:
            self._failed("set_many", error)
            return list(data)

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except RedisError as error:
            self._failed("delete_many", error)

    def clear(self):
        try:
            return super().clear()
        except RedisError as error:
            self._failed("clear", error)
            return False
