"""Endpoints for the machinery next to Callrix (Traefik, Prometheus), on internal hosts only
(`callrix.urls_internal`): a public or licensee host has no such URLs, and each request
must carry `Authorization: Bearer <CALLRIX_INTERNAL_TOKEN>`, in every mode: with no token
configured nothing gets in (production refuses to start without one; the demo makes one)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from kernel.errors import error_body
from tenants import metrics
from tenants.traefik import traefik_dynamic_config


def _refusal(request: HttpRequest) -> HttpResponse | None:
    expected = settings.CALLRIX_INTERNAL_TOKEN
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    if (
        expected
        and scheme.lower() == "bearer"
        and hmac.compare_digest(token.strip().encode(), expected.encode())
    ):
        return None
    response = JsonResponse(
        error_body("A valid internal bearer token is required.", code="unauthorized"),
        status=401,
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@require_GET
def traefik_config(request: HttpRequest) -> HttpResponse:
    return _refusal(request) or JsonResponse(traefik_dynamic_config())


@require_GET
def prometheus_metrics(request: HttpRequest) -> HttpResponse:
    return _refusal(request) or HttpResponse(
        metrics.metrics_text(), content_type=metrics.CONTENT_TYPE
    )
