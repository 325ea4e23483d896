"""Rate limits for sensitive endpoints, shared by every worker through Redis and kept per
licensee (a burst at one licensee never blocks another).

Fixed windows counted with atomic Redis operations (SET NX + INCR): concurrent requests in
different processes cannot both slip under the limit, unlike a read-modify-write history.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from kernel.client_address import client_address
from kernel.tenant_connection import connection

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    count, period = rate.split("/")
    return int(count), _PERIODS[period[0]]


class LicenseeRateThrottle(BaseThrottle):
    """Limits one scope (e.g. "token") per client address — or per signed-in user when the
    request is authenticated — within the current schema."""

    def __init__(self, scope: str) -> None:
        self.scope = scope
        self._wait: float | None = None

    def get_ident(self, request: HttpRequest) -> str:
        # X-Forwarded-For only as far as our own proxies wrote it: a client rotating the
        # header gets no fresh budget.
        return client_address(request)

    def _identity(self, request: HttpRequest) -> str:
        user = getattr(request, "auth", None)
        if user is not None and getattr(user, "pk", None):
            return f"user:{user.pk}"
        return f"addr:{self.get_ident(request)}"

    def allow_request(self, request: HttpRequest) -> bool:
        limit, period = parse_rate(settings.THROTTLE_RATES[self.scope])
        now = time.time()
        window = int(now // period)
        key = f"throttle:{connection.schema_name}:{self.scope}:{self._identity(request)}:{window}"
        cache.add(key, 0, timeout=period + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: a fresh window
            cache.add(key, 1, timeout=period + 1)
            count = 1
        if count > limit:
            self._wait = (window + 1) * period - now
            return False
        return True

    def wait(self) -> float | None:
        return self._wait
