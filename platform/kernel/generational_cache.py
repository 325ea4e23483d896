"""A read-mostly cache kept per process and in Redis, dropped everywhere by one counter.

Host routing (tenants.routing) and brands use it: a warm read is a dict lookup; each process
re-reads the Redis generation counter at most once per `check_seconds`; Redis entries are
keyed by generation, so bumping it makes every process reload within that window, and the
process that bumped it at once. Old Redis entries simply expire.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.core.cache import cache

Value = TypeVar("Value")


def _same(value: Value) -> Value:
    return value


class GenerationalCache(Generic[Value]):
    """One kind of value (`Value`) per cache, keyed by string."""

    def __init__(
        self,
        name: str,
        *,
        timeout: int = 300,
        check_seconds: float = 1.0,
        miss_limit: int = 10_000,
        miss_seconds: float = 30.0,
    ) -> None:
        self.name = name
        self.timeout = timeout
        self.check_seconds = check_seconds
        self._entries: dict[str, Value] = {}
        # Misses (e.g. hosts nobody serves) are kept apart: an attacker names them at will,
        # so they live at most `miss_seconds` and only the newest `miss_limit` are kept.
        self.miss_limit = miss_limit
        self.miss_seconds = miss_seconds
        self._misses: OrderedDict[str, tuple[float, Value]] = OrderedDict()
        self._generation: int | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    @property
    def _generation_key(self) -> str:
        return f"{self.name}:generation"

    def _current_generation(self) -> int:
        value = cache.get(self._generation_key)
        if value is None:
            cache.add(self._generation_key, 1, timeout=None)
            value = cache.get(self._generation_key) or 1
        return int(value)

    def _refresh_if_due(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < self.check_seconds:
            return
        generation = self._current_generation()
        with self._lock:
            if generation != self._generation:
                self._entries = {}
                self._misses = OrderedDict()
                self._generation = generation
            self._checked_at = now

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
        self._refresh_if_due()
        if key in self._entries:
            return self._entries[key]
        now = time.monotonic()
        with self._lock:
            missed = self._misses.get(key)
            if missed is not None and missed[0] > now:
                return missed[1]
        redis_key = f"{self.name}:{self._generation}:{key}"
        stored = cache.get(redis_key)
        if stored is not None:
            value = restore(stored)
        else:
            value = load()
            timeout = self.timeout if timeout_for is None else timeout_for(value)
            cache.set(redis_key, dump(value), timeout=timeout)
        with self._lock:
            if is_miss is not None and is_miss(value):
                self._misses[key] = (now + self.miss_seconds, value)
                self._misses.move_to_end(key)
                while len(self._misses) > self.miss_limit:
                    self._misses.popitem(last=False)
            else:
                self._entries[key] = value
        return value

    @property
    def miss_count(self) -> int:
        return len(self._misses)

    def invalidate(self) -> None:
        try:
            cache.incr(self._generation_key)
        except ValueError:
            cache.set(self._generation_key, 2, timeout=None)
        with self._lock:
            self._entries = {}
            self._misses = OrderedDict()
            self._checked_at = 0.0
