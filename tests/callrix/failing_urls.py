"""A licensee URLconf plus two views that fail in PostgreSQL for real (division by zero),
for the 500 tests: the error carries SQL text that must never reach the client."""

import redis
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from callrix.urls_tenant import urlpatterns as tenant_patterns


def _fail() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 / 0")


def failing_api(request: HttpRequest) -> HttpResponse:
    _fail()
    return JsonResponse({})


def failing_page(request: HttpRequest) -> HttpResponse:
    _fail()
    return HttpResponse("")


def unreachable_redis(request: HttpRequest) -> HttpResponse:
    """A dependency that is down: Redis on a port nothing listens on."""
    redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1).ping()
    return JsonResponse({})


urlpatterns = [
    path("api/v1/unavailable", unreachable_redis),
    path("api/v1/failing", failing_api),
    path("failing-page", failing_page),
    *tenant_patterns,
]
handler404 = "callrix.errors.page_not_found"
handler500 = "callrix.errors.server_error"
