"""Builds the two django-ninja APIs with one mapping of errors to HTTP.

Every refusal is JSON `{"detail", "code", "field"}`; bad input is a 422 naming the field.
"""

from __future__ import annotations

import math

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from kernel.errors import STATUS_CODES, DomainError


def _field_of(error: dict) -> str | None:
    location = [
        str(part)
        for part in error.get("loc", ())
        if part not in ("body", "query", "path", "payload", "data")
    ]
    return ".".join(location) or None


# What the error contract looks like in the OpenAPI documents, and the statuses any operation
# may answer with it (the edge guard, authentication, throttles and failures apply to all).
ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "field": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "error_id": {"type": "string", "description": "500 and 503: the id it is logged under"},
    },
    "required": ["detail", "code", "field"],
}
_ERROR_STATUSES = {
    "400": "Malformed request (JSON, multipart)",
    "401": "Not signed in, or the token is not for this host",
    "403": "Not allowed for this role, or the platform is suspended",
    "404": "No such resource",
    "409": "Conflicts with the current state",
    "410": "The platform was closed",
    "413": "Body too large",
    "415": "Body is not JSON",
    "422": "Invalid input; `field` names it",
    "429": "Too many requests; see Retry-After",
    "500": "Server error; `error_id` names its log line",
    "503": "A service we depend on is briefly unreachable",
}


class CallrixAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        document.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for operations in document["paths"].values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in _ERROR_STATUSES.items():
                    # ninja keys responses by int; the JSON document by string
                    if status not in responses and int(status) not in responses:
                        responses[int(status)] = {"description": description, "content": error}
        return document


def build_api(*, title: str, urls_namespace: str, version: str = "1") -> NinjaAPI:
    api = CallrixAPI(title=title, version=version, urls_namespace=urls_namespace)

    @api.exception_handler(DomainError)
    def domain_error(request, exc: DomainError):
        response = api.create_response(request, exc.as_json(), status=exc.status_code)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            response["Retry-After"] = str(int(retry_after))
        return response

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        first = exc.errors[0] if exc.errors else {}
        field = _field_of(first)
        message = first.get("msg", "Invalid input.")
        detail = f"{field}: {message}" if field else message
        return api.create_response(
            request,
            {"detail": detail, "code": "invalid_input", "field": field, "errors": exc.errors},
            status=422,
        )

    @api.exception_handler(AuthenticationError)
    def authentication_error(request, exc):
        return api.create_response(
            request,
            {
                "detail": "Authentication credentials were missing or invalid.",
                "code": "not_authenticated",
                "field": None,
            },
            status=401,
        )

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return api.create_response(
            request, {"detail": "Not found.", "code": "not_found", "field": None}, status=404
        )

    @api.exception_handler(Throttled)
    def throttled(request, exc: Throttled):
        response = api.create_response(
            request,
            {
                "detail": "Too many requests. Please wait before trying again.",
                "code": "throttled",
                "field": None,
            },
            status=429,
        )
        response["Retry-After"] = str(max(1, math.ceil(exc.wait or 1)))
        return response

    @api.exception_handler(Exception)
    def unexpected(request, exc: Exception):
        # Not ninja's traceback-as-text in development: Django's handling reaches
        # callrix.errors, which logs it under an error id and answers the JSON contract.
        raise exc

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        return api.create_response(
            request,
            {
                "detail": str(exc),
                "code": STATUS_CODES.get(exc.status_code, "http_error"),
                "field": None,
            },
            status=exc.status_code,
        )

    return api
