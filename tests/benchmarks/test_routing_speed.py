"""Routing overhead (docs/architecture.md §3, goal ≥ 0.97×): a licensee's `GET /api/v1/health`
through the whole Django stack, against the same stack with tenancy bypassed —
`LicenseeHostMiddleware` swapped for `FixedLicenseeMiddleware` below, which serves one licensee
loaded before the run. Measured without a query and with one small query per request. The two
stacks take turns request by request (who goes first alternating by round), so load elsewhere
on this shared machine hits both alike; the figures are the ratio of median latencies
(bypassed / full, 1.0 = routing costs nothing), which such bursts barely move, printed as
`BENCH routing_no_query_ratio` and `BENCH routing_query_ratio`.

Requests go in-process through Django's `WSGIHandler`, as a WSGI server would call it (unlike
the test `Client`, it keeps the per-request connection check and signals a real server pays).
"""

from __future__ import annotations

import gc
import io
import statistics
import sys
import time

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import path
from ninja import NinjaAPI

from callrix import urls_tenant
from identity.models import User
from tenants.models import Licensee

ROUNDS = 40
REQUESTS_PER_ROUND = 150
HOST = "alpha.localhost"

# A benchmark-only endpoint: the health answer plus one small query in the licensee's schema.
bench_api = NinjaAPI(title="Benchmark", urls_namespace="benchmark_api", docs_url=None)


@bench_api.get("/owner", auth=None)
def licensee_owner(request):
    owner = User.objects.values_list("email", flat=True).first()
    return {"licensee": request.tenant.slug, "owner": owner}


urlpatterns = [path("bench/", bench_api.urls), *urls_tenant.urlpatterns]

ENDPOINTS = {
    "health, no query": "/api/v1/health",
    "health + one query": "/bench/owner",
}


class FixedLicenseeMiddleware:
    """Tenancy bypassed: no host lookup and no schema switch per request. The licensee is
    loaded before the run, and the benchmark points the connection at its schema before each
    round (untimed), since the full-stack rounds in between set their own tenant object."""

    licensee: Licensee | None = None

    def __init__(self, get_response):
        self.get_response = get_response
        self.urlconf = settings.ROOT_URLCONF

    def __call__(self, request):
        request.tenant = self.licensee
        request.urlconf = self.urlconf
        return self.get_response(request)

    @classmethod
    def activate(cls) -> None:
        connection.set_tenant(cls.licensee)


def _handler(middleware: list[str]) -> WSGIHandler:
    with override_settings(MIDDLEWARE=middleware):
        return WSGIHandler()  # the middleware chain is built here, once


_ENVIRON = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "QUERY_STRING": "",
    "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "8000",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "127.0.0.1",
    "HTTP_HOST": HOST,
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "http",
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": False,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
}


def _get(handler: WSGIHandler, url: str) -> tuple[str, bytes]:
    statuses = []
    environ = {**_ENVIRON, "PATH_INFO": url, "wsgi.input": io.BytesIO()}
    response = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
    try:
        return statuses[0], b"".join(response)
    finally:
        response.close()  # fires request_finished, as a WSGI server does


def _timed(handler: WSGIHandler, url: str) -> float:
    gc.disable()  # a collection lands on one side at random; none runs inside a timing
    try:
        start = time.perf_counter()
        status, _body = _get(handler, url)
        seconds = time.perf_counter() - start
    finally:
        gc.enable()
    assert status == "200 OK", f"{url} failed: {status}"
    return seconds


def _check_alike(full: WSGIHandler, bypassed: WSGIHandler, url: str) -> None:
    """Both stacks answer for alpha from alpha's schema, and routing adds no query of its own
    (no host lookup, no redundant `SET search_path`). Also warms both stacks."""
    answers, queries = [], []
    for handler, before in ((full, _nothing), (bypassed, FixedLicenseeMiddleware.activate)):
        before()
        assert _get(handler, url)[0] == "200 OK"
        with CaptureQueriesContext(connection) as captured:
            status, body = _get(handler, url)
        assert status == "200 OK", body
        answers.append(body)
        queries.append([query["sql"] for query in captured.captured_queries])
    assert answers[0] == answers[1]
    assert b'"licensee": "alpha"' in answers[0]
    assert url == ENDPOINTS["health, no query"] or b"owner@alpha.test" in answers[0]
    assert queries[0] == queries[1]


def _nothing() -> None:
    pass


def _compare(full: WSGIHandler, bypassed: WSGIHandler, url: str) -> list[list[float]]:
    """Per-request latencies of each stack (full, bypassed), taking turns request by request.
    Before each request (untimed) the connection is put back on the licensee object that
    stack's own middleware uses, so neither pays for a tenant switch the other caused."""
    _check_alike(full, bypassed, url)
    _get(full, url)
    full_tenant = connection.tenant  # the object LicenseeHostMiddleware keeps for alpha
    sides = [
        (full, lambda: connection.set_tenant(full_tenant)),
        (bypassed, FixedLicenseeMiddleware.activate),
    ]
    latencies: list[list[float]] = [[], []]
    for round_no in range(ROUNDS):
        order = (0, 1) if round_no % 2 == 0 else (1, 0)  # alternate who goes first
        gc.collect()
        for _ in range(REQUESTS_PER_ROUND):
            for side in order:
                handler, before = sides[side]
                before()
                latencies[side].append(_timed(handler, url))
    return latencies


def test_routing_speed(committed, licensees):
    FixedLicenseeMiddleware.licensee = Licensee.objects.get(slug="alpha")
    bypass_middleware = [
        f"{__name__}.FixedLicenseeMiddleware"
        if entry == "tenants.middleware.LicenseeHostMiddleware"
        else entry
        for entry in settings.MIDDLEWARE
    ]
    try:
        with override_settings(ROOT_URLCONF=__name__):
            full, bypassed = _handler(settings.MIDDLEWARE), _handler(bypass_middleware)
            results = {name: _compare(full, bypassed, url) for name, url in ENDPOINTS.items()}
    finally:
        FixedLicenseeMiddleware.licensee = None

    print(
        f"\nRouting, GET on {HOST} in-process via WSGIHandler, {ROUNDS} rounds x "
        f"{REQUESTS_PER_ROUND} requests per stack taking turns (full / bypassed: by throughput, "
        f"and by median latency, which bursts of load elsewhere on the machine barely move):"
    )
    ratios = {}
    for name, (full_latencies, bypassed_latencies) in results.items():
        full_rate = len(full_latencies) / sum(full_latencies)
        bypassed_rate = len(bypassed_latencies) / sum(bypassed_latencies)
        full_median = statistics.median(full_latencies)
        bypassed_median = statistics.median(bypassed_latencies)
        print(
            f"  {name:<19} full stack {full_rate:5.0f} req/s, tenancy bypassed "
            f"{bypassed_rate:5.0f} req/s: {full_rate / bypassed_rate:.3f}x; median "
            f"{full_median * 1e6:4.0f} vs {bypassed_median * 1e6:4.0f} µs: "
            f"{bypassed_median / full_median:.3f}x"
        )
        ratios[name] = bypassed_median / full_median
    print(f"BENCH routing_no_query_ratio {ratios['health, no query']:.3f} goal 0.97")
    print(f"BENCH routing_query_ratio {ratios['health + one query']:.3f} goal 0.97")
