"""The errors, in the shapes Google answers them (and the control routes' plain ones)."""

from __future__ import annotations

from typing import Any

FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"


class FcmApiError(Exception):
    """A Google API error: `{"error": {"code", "message", "status", "details"}}`. The SDK picks
    its exception class from `status`, or from the FcmError `errorCode` in `details`."""

    def __init__(
        self,
        http_status: int,
        message: str,
        *,
        status: str,
        fcm_code: str | None = None,
        field: str | None = None,
    ):
        super().__init__(message)
        self.http_status = http_status
        self.message = message
        self.status = status
        self.fcm_code = fcm_code
        self.field = field

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.http_status,
            "message": self.message,
            "status": self.status,
        }
        details: list[dict[str, Any]] = []
        if self.fcm_code:
            details.append({"@type": FCM_ERROR_TYPE, "errorCode": self.fcm_code})
        if self.field:
            violation = {"field": self.field, "description": self.message}
            details.append({"@type": BAD_REQUEST_TYPE, "fieldViolations": [violation]})
        if details:
            error["details"] = details
        return {"error": error}


def invalid(message: str, field: str | None = None, *, fcm: bool = True) -> FcmApiError:
    """INVALID_ARGUMENT. FCM adds its FcmError detail to its own checks (token, recipient,
    size); malformed JSON gets only the generic BadRequest detail, as from Google's front end."""
    return FcmApiError(
        400,
        message,
        status="INVALID_ARGUMENT",
        fcm_code="INVALID_ARGUMENT" if fcm else None,
        field=field,
    )


def bad_json(message: str, field: str) -> FcmApiError:
    return invalid(message, field, fcm=False)


class OAuthError(Exception):
    """The token endpoint's errors: `{"error": "invalid_grant", "error_description": "…"}`."""

    def __init__(self, error: str, description: str, http_status: int = 400):
        super().__init__(description)
        self.error = error
        self.description = description
        self.http_status = http_status

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description}


class ControlError(ValueError):
    """A refused `/_sandbox/` call or control method: a plain message."""

    def __init__(self, message: str, http_status: int = 400):
        super().__init__(message)
        self.message = message
        self.http_status = http_status
