"""Endpoints for the machinery next to Callrix (Traefik, Prometheus), on internal hosts only
(`callrix.urls_internal`): a public or licensee host has no such URLs, and each request
must carry `Authorization: Bearer <CALLRIX_INTERNAL_TOKEN>` when that token is set
(production requires it)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from tenants import metrics
from tenants.traefik import traefik_dynamic_config


def _refusal(request: HttpRequest) -> HttpResponse | None:
    expected = settings.CALLRIX_INTERNAL_TOKEN
    if not expected:
        return None
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), expected):
        return None
    response = JsonResponse(
        {"detail": "A valid internal bearer token is required.", "code": "unauthorized"},
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
