"""The root of every app's domain errors, mapped once to HTTP by `callrix.api`."""

from __future__ import annotations

from typing import TypedDict


class ErrorBody(TypedDict):
    """The JSON body of every 4xx a domain error becomes."""

    detail: str
    code: str
    field: str | None


class DomainError(Exception):
    """A refusal the caller can act on: `detail` for people, `code` for programs."""

    status_code = 400
    code = "invalid_request"

    def __init__(self, detail: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if code:
            self.code = code

    def as_json(self) -> ErrorBody:
        return {"detail": self.detail, "code": self.code, "field": self.field}


# The paths whose every answer, refusals and failures included, is the JSON contract.
API_PATH_PREFIXES = ("/api/", "/webhooks/", "/internal/")

# The `code` of an error that no app named, by HTTP status.
STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "throttled",
    500: "server_error",
    503: "unavailable",
}


def is_api_path(path: str) -> bool:
    return path.startswith(API_PATH_PREFIXES)


def error_body(detail: str, *, code: str, field: str | None = None) -> ErrorBody:
    return {"detail": str(detail), "code": code, "field": field}
