"""Benchmarks leave nothing behind in Redis either: cache keys and job queues of a test run live
under its own prefix (see settings), which is emptied when the run ends. Queued pool refills
matter most, since no worker runs here to take them."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache


@pytest.fixture(scope="session", autouse=True)
def _empty_run_namespace():
    yield
    redis = cache._cache.get_client(None, write=True)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    stale = list(redis.scan_iter(match=f"{prefix}:*"))
    if stale:
        redis.delete(*stale)
