"""When Redis does not answer: what needs it answers a JSON 503 `unavailable` (an HTML 503
page on pages), never Django's 500. Everything else goes on without it (host routing and
brands fall back to the database, `kernel.generational_cache`; rate limits follow
`kernel.throttling.WITHOUT_REDIS`)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from dramatiq.errors import BrokerConnectionError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# What a lost Redis raises: the cache's client, and dramatiq's broker when a job is queued.
REDIS_DOWN = (RedisError, BrokerConnectionError)

_PAGE = (
    "<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>{title}</title>"
    "</head><body><main><h1>{title}</h1><p>{detail}</p></main></body></html>"
)


def unavailable_response(request: HttpRequest) -> HttpResponse:
    detail = _("This is not available right now. Please try again in a minute.")
    if request.path.startswith(("/api/", "/webhooks/", "/internal/")):
        body = {"detail": detail, "code": "unavailable", "field": None}
        response: HttpResponse = JsonResponse(body, status=503)
    else:
        page = _PAGE.format(
            lang=getattr(request, "LANGUAGE_CODE", "en"),
            title=_("Temporarily unavailable"),
            detail=detail,
        )
        response = HttpResponse(page, status=503)
    response["Retry-After"] = "30"
    return response


class RedisOutageMiddleware:
    """Outermost: turns a Redis or job-queue outage anywhere in a request into a 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except REDIS_DOWN as error:  # raised in a middleware or after the view (on commit)
            logger.warning(
                "Redis unavailable during %s %s: %s", request.method, request.path, error
            )
            return unavailable_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, REDIS_DOWN):
            logger.warning(
                "Redis unavailable in %s %s: %s", request.method, request.path, exception
            )
            return unavailable_response(request)
        return None
