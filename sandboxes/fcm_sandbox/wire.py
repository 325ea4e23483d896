"""Requests as the sandbox reads them, and its JSON answers, typed as Google types them."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, parse_qsl

from sandboxes import _wsgi
from sandboxes._wsgi import Response
from sandboxes.fcm_sandbox.errors import ControlError


class Request(_wsgi.Request):
    def control_input(self) -> dict[str, Any]:
        """A control route's input: a JSON object, or form fields."""
        return self.object_input(parse_form=lambda body: dict(parse_qsl(body)), refuse=ControlError)

    def query_value(self, name: str) -> str | None:
        values = parse_qs(self.query).get(name)
        return values[0] if values else None


def json_response(status: int, data: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    return _wsgi.json_response(
        status, data, headers, content_type="application/json; charset=UTF-8"
    )
