"""Rate limits for sensitive endpoints, shared by every worker through Redis and kept per
licensee (a burst at one licensee never blocks another).

Fixed windows counted with atomic Redis operations (SET NX + INCR): concurrent requests in
different processes cannot both slip under the limit, unlike a read-modify-write history.

Without Redis nothing can be counted, and each scope follows its written rule
(`WITHOUT_REDIS`): "closed" answers 503 `unavailable` (`kernel.outage`) where an unlimited
burst would send e-mail or open accounts; "open" lets the request through where the person
is signed in or another guard stands (sign-in lockouts live in the database, top-ups in
Stripe, calls in the wallet).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from ninja.throttling import BaseThrottle
from redis.exceptions import RedisError

from kernel.client_address import client_address
from kernel.tenant_connection import connection

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

# Each scope's rule when Redis does not answer (a scope not listed fails open).
WITHOUT_REDIS = {
    "register": "closed",  # opens accounts and sends a verification e-mail
    "signup": "closed",  # starts a licensee sign-up and Stripe checkout
    "password_reset": "closed",  # sends e-mail to any address asked for
    "verify_email": "closed",  # sends e-mail
    "token": "open",  # axes' lockouts (in the database) still stop guessing
    "refresh": "open",  # holds a valid refresh token already
    "topup": "open",  # a signed-in person; Stripe limits payments
    "call": "open",  # a signed-in person; the wallet limits calls
    "export": "open",  # an admin; one export runs at a time
    "subject_export": "open",  # a signed-in person's own data
}


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
        try:
            count = self._count(key, period)
        except RedisError:
            if WITHOUT_REDIS.get(self.scope, "open") == "closed":
                raise  # kernel.outage answers it: 503 `unavailable`
            return True
        if count > limit:
            self._wait = (window + 1) * period - now
            return False
        return True

    @staticmethod
    def _count(key: str, period: int) -> int:
        cache.add(key, 0, timeout=period + 1)
        try:
            count: int = cache.incr(key)
        except ValueError:  # expired between add and incr: a fresh window
            cache.add(key, 1, timeout=period + 1)
            count = 1
        return count

    def wait(self) -> float | None:
        return self._wait
