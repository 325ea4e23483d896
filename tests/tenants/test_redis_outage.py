"""Redis down: licensee hosts keep answering (routing and brands from the database, bounded
in the process), what truly needs Redis answers a JSON 503 `unavailable`, health says which
part is down, and everything recovers with no restart."""

from __future__ import annotations

import socket
import time

import pytest
from django.conf import settings as django_settings

from kernel.generational_cache import GenerationalCache
from tenants.routing import resolve_host

pytestmark = pytest.mark.django_db


def _dead_redis_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


@pytest.fixture
def redis_down(settings):
    """The product's cache pointed at a Redis that does not answer (connection refused)."""
    working = django_settings.CACHES
    settings.CACHES = {
        "default": working["default"] | {"LOCATION": _dead_redis_url()},
    }
    yield
    settings.CACHES = working


def test_licensee_hosts_answer_from_the_database_without_redis(api, alpha, redis_down):
    health = api("alpha").get("/api/v1/health")
    assert health.status_code == 200
    assert health.json() == {
        "licensee": "alpha",
        "name": "Alpha Advice",
        "status": "trial",
        "redis": False,
    }
    page = api("alpha").client.get("/")
    assert page.status_code == 200 and b"<html" in page.content
    assert api("nobody").get("/api/v1/health").status_code == 404


def test_what_needs_redis_answers_json_503_and_the_rest_follows_its_rule(api, alpha, redis_down):
    closed = api("alpha").post(
        "/api/v1/auth/register",
        {
            "email": "new@example.test",
            "password": "Velvet-Compass-2031",
            "birth_date": "1990-01-01",
        },
    )
    assert closed.status_code == 503
    # The error contract, with the error id its log line carries.
    assert {key: closed.json()[key] for key in ("detail", "code", "field")} == {
        "detail": "This is not available right now. Please try again in a minute.",
        "code": "unavailable",
        "field": None,
    }
    assert len(closed.json()["error_id"]) == 32
    opened = api("alpha").post(
        "/api/v1/auth/token", {"email": "nobody@example.test", "password": "wrong-password"}
    )
    assert opened.status_code == 401  # sign-in goes on: its lockouts live in the database


def test_the_platform_health_names_the_part_that_is_down(api, redis_down):
    response = api(None).get("/api/platform/v1/health")
    assert response.status_code == 503
    assert response.json() == {
        "status": "degraded",
        "database": True,
        "redis": False,
        "detail": "Degraded: the Redis does not answer.",
        "code": "unavailable",
        "field": None,
    }


def test_routing_recovers_when_redis_returns_without_a_restart(api, alpha, settings):
    working = django_settings.CACHES
    settings.CACHES = {"default": working["default"] | {"LOCATION": _dead_redis_url()}}
    assert resolve_host("alpha.localhost").schema_name == "alpha"
    settings.CACHES = working
    time.sleep(2.1)  # the routing cache tries Redis again after its retry interval
    assert api("alpha").get("/api/v1/health").json()["redis"] is True
    assert resolve_host("alpha.localhost").schema_name == "alpha"


def test_without_redis_a_process_keeps_values_briefly_and_boundedly(settings):
    settings.CACHES = {
        "default": django_settings.CACHES["default"] | {"LOCATION": _dead_redis_url()}
    }
    loads: list[str] = []
    cache: GenerationalCache[str] = GenerationalCache(
        "test:fallback", max_entries=2, fallback_seconds=0.2
    )

    def load(key: str) -> str:
        loads.append(key)
        return key.upper()

    assert cache.get("a", lambda: load("a")) == "A"
    assert cache.get("a", lambda: load("a")) == "A"
    assert loads == ["a"]  # kept in the process meanwhile
    assert cache.redis_down
    cache.get("b", lambda: load("b"))
    cache.get("c", lambda: load("c"))  # at most two: "a" goes
    cache.get("a", lambda: load("a"))
    assert loads == ["a", "b", "c", "a"]
    time.sleep(0.25)
    cache.get("a", lambda: load("a"))  # no other process can say it changed: reloaded
    assert loads[-1] == "a" and len(loads) == 5
