"""A circuit breaker for one outside provider, per process: after `failures` calls in a row
that could not reach it, calls fail at once for `cooldown_seconds` instead of each waiting out
its timeout (and piling onto a provider that is down); then one trial call decides whether it
closes again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitOpen(Exception):
    """The provider failed repeatedly just now; not asked this time."""


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failures: Callable[[], int],
        cooldown_seconds: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Thresholds are read on every use, so settings changed at run time (tests) apply.
        self.name = name
        self._failures_allowed = failures
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at is not None

    def before_call(self) -> None:
        """Raise `CircuitOpen` while open; after the cooldown let exactly one trial through."""
        with self._lock:
            if self._opened_at is None:
                return
            if self._clock() - self._opened_at < self._cooldown() or self._trial_running:
                raise CircuitOpen(self.name)
            self._trial_running = True

    def succeeded(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            self._trial_running = False
            if self._opened_at is not None or self._failures >= self._failures_allowed():
                self._opened_at = self._clock()

    def reset(self) -> None:
        self.succeeded()
