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
