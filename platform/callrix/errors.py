"""One error contract for everything that goes wrong, in development and production alike.

Under `/api/`, `/webhooks/` and `/internal/` every error is JSON `{"detail", "code", "field"}`
with its status, whoever produced it (a view, Django's resolver, ninja's method check, a
middleware); a 500 also carries the `error_id` it is logged under, and never a traceback,
SQL or a setting. Pages get the branded error page of the host's brand; Django's debug pages
are left only to requests from this machine itself.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.html import escape
from django.utils.translation import gettext as _
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from kernel.client_address import is_loopback
from kernel.errors import STATUS_CODES, error_body, is_api_path

logger = logging.getLogger("callrix.errors")

# Failures of a service we depend on, not of the request: 503, try again.
_UNAVAILABLE = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)
# Exceptions that are refusals, not failures: Django turns them into 400/403/404.
_REFUSALS = (Http404, PermissionDenied, BadRequest, SuspiciousOperation, MultiPartParserError)
# Headers a replaced response keeps (405's Allow, 401's challenge, 429's wait).
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _detail_for(status: int) -> str:
    return {
        400: _("The request is malformed."),
        401: _("Authentication credentials were missing or invalid."),
        403: _("You may not do this."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        409: _("This conflicts with the current state."),
        410: _("This is no longer available."),
        413: _("The request body is too large."),
        415: _("This content type is not accepted."),
        422: _("The input is invalid."),
        429: _("Too many requests. Please wait before trying again."),
        500: _("Something went wrong on our side. Please try again later."),
        503: _("The service is briefly unavailable. Please try again shortly."),
    }.get(status, _("The request could not be completed."))


def _failure(request: HttpRequest, exc_info: ExcInfo | None) -> HttpResponse:
    """Log an unhandled failure under a fresh id and answer with that id."""
    error_id = uuid.uuid4().hex
    exc = exc_info[1] if exc_info else None
    status = 503 if isinstance(exc, _UNAVAILABLE) else 500
    logger.error(
        "error_id=%s %s %s failed with %s",
        error_id,
        request.method,
        request.path,
        type(exc).__name__ if exc else "a server error",
        exc_info=exc_info,
        # The JSON log format writes the route, never the path's ids and tokens.
        extra={"request": request, "status_code": status},
    )
    body = {**error_body(_detail_for(status), code=STATUS_CODES[status]), "error_id": error_id}
    if is_api_path(request.path):
        response: HttpResponse = JsonResponse(body, status=status)
    else:
        response = error_page(request, status, body)
    response.callrix_error_id = error_id  # type: ignore[attr-defined]
    return response


def error_page(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    """The branded error page (the host's brand: the licensee's, or Callrix's on public)."""
    context = {"status": status, "detail": body.get("detail"), "error_id": body.get("error_id")}
    try:
        response = render(request, "callrix/error.html", context, status=status)
    except Exception:  # the brand itself is out of reach (database or Redis down)
        logger.exception("the branded error page could not be rendered")
        response = HttpResponse(
            escape(str(context["detail"])), status=status, content_type="text/plain"
        )
    response.callrix_error_page = True  # type: ignore[attr-defined]
    return response


@receiver(got_request_exception)
def _remember_exception(sender: object, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Django turned an exception from a middleware into its own 500; keep it for the log."""
    if request is not None:
        request.callrix_exc_info = sys.exc_info()  # type: ignore[attr-defined]


def _is_debug_page(response: HttpResponse) -> bool:
    """One of Django's technical pages (404 with the URL patterns, 400/500 with the
    traceback): they alone carry this robots line."""
    return (
        settings.DEBUG
        and not getattr(response, "streaming", False)
        and response.get("Content-Type", "").startswith("text/html")
        and b'content="NONE,NOARCHIVE"' in response.content[:2000]
    )


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip().endswith("json")


class ErrorContractMiddleware:
    """The outermost middleware: sees every response and every view's exception."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or getattr(response, "callrix_error_page", False):
            return response
        if getattr(response, "callrix_error_id", None):
            return response
        if response.status_code >= 500:
            exc_info = getattr(request, "callrix_exc_info", None)
            if exc_info is not None or not _is_json(response):
                return _failure(request, exc_info)
        if is_api_path(request.path):
            return self._as_contract(response)
        return self._as_page(request, response)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, _REFUSALS):  # Django answers these 4xx itself (then __call__)
            return None
        return _failure(request, (type(exception), exception, exception.__traceback__))

    @staticmethod
    def _as_contract(response: HttpResponse) -> HttpResponse:
        status = response.status_code
        if _is_json(response) and not getattr(response, "streaming", False):
            try:
                body = json.loads(response.content)
            except ValueError:
                body = None
            if isinstance(body, dict) and "detail" in body:
                if "code" in body and "field" in body:
                    return response
                body.setdefault("code", STATUS_CODES.get(status, "error"))
                body.setdefault("field", None)
                if not isinstance(body["detail"], str):
                    body["detail"] = _detail_for(status)
                return _keep_headers(response, JsonResponse(body, status=status))
        code = STATUS_CODES.get(status, "error")
        return _keep_headers(
            response, JsonResponse(error_body(_detail_for(status), code=code), status=status)
        )

    @staticmethod
    def _as_page(request: HttpRequest, response: HttpResponse) -> HttpResponse:
        marked = getattr(response, "error_page", None)
        if marked is not None:
            return _keep_headers(response, error_page(request, response.status_code, marked))
        # Development's debug pages (URL patterns, tracebacks, settings) stay on this machine.
        if _is_debug_page(response) and not is_loopback(request):
            status = response.status_code
            body = error_body(_detail_for(status), code=STATUS_CODES[status])
            return error_page(request, status, dict(body))
        return response


def _keep_headers(old: HttpResponse, new: HttpResponse) -> HttpResponse:
    for header in _KEPT_HEADERS:
        if header in old:
            new[header] = old[header]
    return new


# Django's handlers (urls_*.py name them), used when DEBUG is off.
def _handled(request: HttpRequest, status: int, code: str, detail: str) -> HttpResponse:
    body = error_body(detail, code=code)
    if is_api_path(request.path):
        return JsonResponse(body, status=status)
    return error_page(request, status, dict(body))


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _handled(request, 400, "bad_request", _detail_for(400))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _handled(request, 403, "forbidden", _detail_for(403))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _handled(request, 404, "not_found", _detail_for(404))


def server_error(request: HttpRequest) -> HttpResponse:
    return _failure(request, getattr(request, "callrix_exc_info", None))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the form was stale or forged; say so in the brand's page."""
    detail = _("This form has expired. Go back, reload the page and try again.")
    return _handled(request, 403, "csrf_failed", detail)
