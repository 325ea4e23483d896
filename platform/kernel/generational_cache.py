"""A read-mostly cache kept per process and in Redis, dropped everywhere by one counter.

Host routing (tenants.routing) and brands use it: a warm read is a dict lookup; each process
re-reads the Redis generation counter at most once per `check_seconds`; Redis entries are
keyed by generation, so bumping it makes every process reload within that window, and the
process that bumped it at once. Old Redis entries simply expire.

Redis is an accelerator here, never a dependency: when it does not answer, values come from
`load` (the database) and are kept in the process for at most `fallback_seconds` each (no
other process can tell this one about changes meanwhile), Redis is not asked again for
`retry_seconds`, and everything returns to normal by itself once Redis answers again. The
process keeps at most `max_entries` values (the oldest go first).

Misses (values `is_miss` calls so, e.g. hosts nobody serves) are kept apart: anyone can name
them at will, so they live at most `miss_seconds` and only the newest `miss_limit` are kept.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

Value = TypeVar("Value")


def _same(value: Value) -> Value:
    return value


_every_cache: weakref.WeakSet[GenerationalCache[Any]] = weakref.WeakSet()


@receiver(setting_changed)
def _caches_changed(*, setting: str, **kwargs: object) -> None:
    # Another Redis: what the old one's failure taught this process no longer holds.
    if setting == "CACHES":
        for generational in list(_every_cache):
            generational.forget_outage()


class GenerationalCache(Generic[Value]):
    """One kind of value (`Value`) per cache, keyed by string."""

    def __init__(
        self,
        name: str,
        *,
        timeout: int = 300,
        check_seconds: float = 1.0,
        max_entries: int = 10_000,
        fallback_seconds: float = 30.0,
        retry_seconds: float = 2.0,
        miss_limit: int = 10_000,
        miss_seconds: float = 30.0,
    ) -> None:
        self.name = name
        self.timeout = timeout
        self.check_seconds = check_seconds
        self.max_entries = max_entries
        self.fallback_seconds = fallback_seconds
        self.retry_seconds = retry_seconds
        self._entries: OrderedDict[str, tuple[Value, float]] = OrderedDict()
        self.miss_limit = miss_limit
        self.miss_seconds = miss_seconds
        self._misses: OrderedDict[str, tuple[float, Value]] = OrderedDict()
        self._generation: int | None = None
        self._checked_at = 0.0
        self._redis_down_until = 0.0
        self._lock = threading.Lock()
        _every_cache.add(self)

    def forget_outage(self) -> None:
        """Ask Redis again at the next read, and re-read the generation then."""
        self._redis_down_until = 0.0
        self._checked_at = 0.0

    @property
    def redis_down(self) -> bool:
        """True while this process answers without Redis (it failed within retry_seconds)."""
        return time.monotonic() < self._redis_down_until

    def _redis(self, operation: Callable[[], Any]) -> tuple[bool, Any]:
        """(True, result) from Redis, or (False, None) when it does not answer."""
        if self.redis_down:
            return False, None
        try:
            return True, operation()
        except RedisError as error:
            logger.warning("%s: Redis does not answer (%s); using the database", self.name, error)
            self._redis_down_until = time.monotonic() + self.retry_seconds
            return False, None

    @property
    def _generation_key(self) -> str:
        return f"{self.name}:generation"

    def _current_generation(self) -> int:
        value = cache.get(self._generation_key)
        if value is None:
            cache.add(self._generation_key, 1, timeout=None)
            value = cache.get(self._generation_key) or 1
        return int(value)

    def _refresh_if_due(self) -> bool:
        """Drop the process's entries when the generation moved; False without Redis."""
        now = time.monotonic()
        if now - self._checked_at < self.check_seconds and not self.redis_down:
            return True
        answered, generation = self._redis(self._current_generation)
        with self._lock:
            if not answered:
                return False
            if generation != self._generation:
                self._entries = OrderedDict()
                self._misses = OrderedDict()
                self._generation = generation
            self._checked_at = now
        return True

    def get(
        self,
        key: str,
        load: Callable[[], Value],
        *,
        dump: Callable[[Value], object] = _same,
        restore: Callable[[Any], Value] = _same,
        timeout_for: Callable[[Value], int] | None = None,
        is_miss: Callable[[Value], bool] | None = None,
    ) -> Value:
        """The cached value for `key`, loading (and storing) it on a miss. `dump`/`restore`
        turn it into something Redis can pickle and back (a dumped None is a miss, so dump a
        None worth keeping as something else); `timeout_for` picks a value's Redis lifetime;
        values `is_miss` calls misses go to the bounded, short-lived miss store."""
        with_redis = self._refresh_if_due()
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and (with_redis or now - entry[1] < self.fallback_seconds):
            return entry[0]
        with self._lock:
            missed = self._misses.get(key)
            if missed is not None and missed[0] > now:
                return missed[1]
        if with_redis:
            redis_key = f"{self.name}:{self._generation}:{key}"
            answered, stored = self._redis(lambda: cache.get(redis_key))
            if answered and stored is not None:
                value = restore(stored)
            else:
                value = load()
                timeout = self.timeout if timeout_for is None else timeout_for(value)
                self._redis(lambda: cache.set(redis_key, dump(value), timeout=timeout))
        else:
            value = load()
        with self._lock:
            if is_miss is not None and is_miss(value):
                self._misses[key] = (now + self.miss_seconds, value)
                self._misses.move_to_end(key)
                while len(self._misses) > self.miss_limit:
                    self._misses.popitem(last=False)
            else:
                self._entries[key] = (value, now)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value

    @property
    def miss_count(self) -> int:
        return len(self._misses)

    def invalidate(self) -> None:
        def bump() -> None:
            try:
                cache.incr(self._generation_key)
            except ValueError:
                cache.set(self._generation_key, 2, timeout=None)

        self._redis(bump)  # without Redis, other processes catch up within fallback_seconds
        with self._lock:
            self._entries = OrderedDict()
            self._misses = OrderedDict()
            self._checked_at = 0.0
