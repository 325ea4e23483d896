"""Stripe's errors, in the JSON shape the SDK maps to its exception classes."""

from __future__ import annotations

from typing import Any

DOCS_URL = "https://stripe.com/docs/error-codes"


class StripeApiError(Exception):
    """An error answered in Stripe's JSON shape, which the SDK maps to its exception classes
    by HTTP status (400/404 InvalidRequestError, 401 AuthenticationError, 403 PermissionError)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        error_type: str = "invalid_request_error",
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.error_type = error_type

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.error_type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"{DOCS_URL}#{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


def missing(noun: str, object_id: str, param: str = "id") -> StripeApiError:
    return StripeApiError(
        404, f"No such {noun}: '{object_id}'", code="resource_missing", param=param
    )
