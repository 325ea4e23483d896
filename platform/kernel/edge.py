"""The request guard: hostile input is refused once, here, before any view or query sees it.

- bodies over the size limit: 413 (read no further than the declared length);
- multipart bodies without a usable boundary: 400;
- on the API paths, bodies that are not JSON (webhooks: what the providers send): 415, and
  JSON that does not parse: 400;
- NUL and control characters in query strings, JSON strings and form fields, and integers
  past what PostgreSQL's bigint holds: 422 naming the field.

The schema types of `kernel.inputs` repeat the string and integer rules per field (that is
what the OpenAPI documents show); this catches every endpoint, the pages' forms included.
Refusals on the API paths are the JSON contract; on pages they carry `error_page` and the
error contract middleware (`callrix.errors`) renders the branded page for them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.http import parse_header_parameters
from django.utils.translation import gettext as _

from kernel.errors import error_body, is_api_path
from kernel.inputs import BIGINT_MAX, has_forbidden_characters

JSON_TYPES = frozenset({"application/json"})
# LiveKit signs `application/webhook+json`; Stripe sends `application/json`.
WEBHOOK_TYPES = frozenset({"application/json", "application/webhook+json"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class Refusal(Exception):
    def __init__(self, status: int, code: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.field = status, code, detail, field


def refusal_response(request: HttpRequest, refusal: Refusal) -> HttpResponse:
    body = error_body(refusal.detail, code=refusal.code, field=refusal.field)
    if is_api_path(request.path):
        return JsonResponse(body, status=refusal.status)
    response = HttpResponse(refusal.detail, status=refusal.status, content_type="text/plain")
    response.error_page = body  # type: ignore[attr-defined]
    return response


def _declared_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _check_text(field: str, value: str, *, multiline: bool) -> None:
    if has_forbidden_characters(field, multiline=False) or has_forbidden_characters(
        value, multiline=multiline
    ):
        raise Refusal(
            422,
            "invalid_characters",
            _("%(field)s must not contain NUL or control characters.") % {"field": field},
            field=field,
        )


def _json_leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield ".".join((*path, str(key))), str(key)
            yield from _json_leaves(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_leaves(item, (*path, str(index)))
    else:
        yield ".".join(path), value


def _check_json(body: bytes) -> None:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, too deep, too many digits
        raise Refusal(400, "malformed_json", _("The request body is not valid JSON.")) from None
    for field, value in _json_leaves(document):
        if isinstance(value, str):
            _check_text(field or "body", value, multiline=True)
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > BIGINT_MAX:
            raise Refusal(
                422,
                "out_of_range",
                _("%(field)s is out of range.") % {"field": field or "body"},
                field=field or None,
            )


class RequestGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            self._inspect(request)
        except Refusal as refusal:
            return refusal_response(request, refusal)
        return self.get_response(request)

    def _inspect(self, request: HttpRequest) -> None:
        try:
            query = request.GET
        except SuspiciousOperation:  # more parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS
            raise Refusal(400, "bad_request", _("The query has too many parameters.")) from None
        for key, values in query.lists():
            for value in values:
                _check_text(key, value, multiline=False)
        length = _declared_length(request)
        if not length:
            return
        api = is_api_path(request.path)
        limit = settings.MAX_API_BODY_BYTES if api else settings.MAX_PAGE_BODY_BYTES
        if length > limit:
            raise Refusal(
                413,
                "body_too_large",
                _("The request body is larger than %(limit)s bytes.") % {"limit": limit},
            )
        content_type, params = parse_header_parameters(request.META.get("CONTENT_TYPE", ""))
        content_type = content_type.lower()
        if content_type.startswith("multipart/") and not _usable_boundary(params):
            raise Refusal(400, "malformed_multipart", _("The multipart body has no boundary."))
        if api:
            self._inspect_api_body(request, content_type)
        elif content_type in FORM_TYPES:
            self._inspect_form(request)

    @staticmethod
    def _inspect_api_body(request: HttpRequest, content_type: str) -> None:
        webhook = request.path.startswith("/webhooks/")
        if content_type not in (WEBHOOK_TYPES if webhook else JSON_TYPES):
            raise Refusal(
                415,
                "unsupported_media_type",
                _("Send the request body as %(types)s.")
                % {"types": ", ".join(sorted(WEBHOOK_TYPES if webhook else JSON_TYPES))},
            )
        if not webhook:  # a webhook's raw bytes are checked against the provider's signature
            _check_json(request.body)

    @staticmethod
    def _inspect_form(request: HttpRequest) -> None:
        try:
            fields = request.POST
        except MultiPartParserError:
            raise Refusal(
                400, "malformed_multipart", _("The multipart body is malformed.")
            ) from None
        except SuspiciousOperation:  # too many fields or files
            raise Refusal(400, "bad_request", _("The form has too many fields.")) from None
        for key, values in fields.lists():
            for value in values:
                _check_text(key, value, multiline=True)


def _usable_boundary(params: dict[str, str]) -> bool:
    boundary = params.get("boundary", "")
    # RFC 2046: 1 to 70 characters; Django's parser refuses anything else with an exception.
    return 0 < len(boundary) <= 70 and boundary.isascii() and boundary.isprintable()
