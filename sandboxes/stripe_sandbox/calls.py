"""A request to the sandbox and, once its API key is known, the Stripe API call it makes."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from sandboxes import _wsgi
from sandboxes._wsgi import Response, json_response
from sandboxes.stripe_sandbox.accounts import SandboxAccount
from sandboxes.stripe_sandbox.errors import StripeApiError
from sandboxes.stripe_sandbox.params import parse_form


class Request(_wsgi.Request):
    def json(self) -> dict[str, Any]:
        """A control route's input: JSON, or an HTML form's fields."""
        return self.object_input(
            parse_form=parse_form, refuse=lambda message: StripeApiError(400, message)
        )


def error_response(error: StripeApiError) -> Response:
    return json_response(error.status, error.body())


@dataclass
class CallContext:
    """One authenticated Stripe API call."""

    account: SandboxAccount
    method: str
    path: str
    params: dict[str, Any]
    request_id: str
    idempotency_key: str | None
    stripe_account: str | None
    base_url: str

    @property
    def acting_account_id(self) -> str:
        return self.stripe_account or self.account.id

    def fingerprint(self) -> str:
        return json.dumps([self.method, self.path, self.params], sort_keys=True)


def mask_key(key: str) -> str:
    return key[:8] + "*" * max(len(key) - 12, 0) + key[-4:]


def bearer_key(authorization: str) -> str:
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    if scheme.lower() == "basic":  # `curl -u sk_test_…:` as in Stripe's own docs
        try:
            return base64.b64decode(credentials).decode().partition(":")[0]
        except ValueError:
            return ""
    return ""
