"""Redis killed under a running web server and started again: licensee hosts answer 200 or a
JSON 503 throughout, never an HTML 500, and recover without a restart."""

from __future__ import annotations

import time

import pytest

from tests.chaos.conftest import http

pytestmark = pytest.mark.django_db

HOST = "alpha.localhost"


def _checks(web) -> dict[str, object]:
    health = http("GET", f"{web.url}/api/v1/health", HOST)
    page = http("GET", f"{web.url}/", HOST)
    reset = http("POST", f"{web.url}/api/v1/auth/password-reset", HOST, {"email": "x@example.test"})
    for answer in (health, page, reset):
        assert answer.status != 500 and answer.status < 502 or answer.status == 503, answer
        if answer.status >= 500:
            assert answer.content_type.startswith("application/json"), answer
    return {"health": health, "page": page, "reset": reset}


def test_redis_killed_and_restarted_under_the_web_server(web, own_redis):
    before = _checks(web)
    assert before["health"].json()["redis"] is True
    assert before["reset"].status == 202

    own_redis.kill()
    for _ in range(3):  # a few rounds while it is down
        during = _checks(web)
        assert during["health"].status == 200 and during["page"].status == 200
        assert during["reset"].status == 503
        assert during["reset"].json()["code"] == "unavailable"
        time.sleep(0.5)
    assert during["health"].json()["redis"] is False

    own_redis.start()  # same port: the web server was not restarted
    deadline = time.monotonic() + 10
    while True:
        after = _checks(web)
        if after["reset"].status == 202 and after["health"].json()["redis"] is True:
            break
        assert time.monotonic() < deadline, after
        time.sleep(0.5)
