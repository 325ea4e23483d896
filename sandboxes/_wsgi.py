"""What the sandboxes' WSGI applications share: a request read from the WSGI environ, a
response, and a route table tried in order. Only the standard library is used: the product
imports the sandboxes at run time with its base dependencies only."""

from __future__ import annotations

import http
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

FORM = "application/x-www-form-urlencoded"


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    base_url: str

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Self:
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        return cls(
            method=environ["REQUEST_METHOD"].upper(),
            path=cls.path_from(environ),
            query=environ.get("QUERY_STRING", ""),
            headers=headers,
            body=body,
            base_url=f"{environ.get('wsgi.url_scheme', 'http')}://{host}",
        )

    @staticmethod
    def path_from(environ: dict[str, Any]) -> str:
        return environ.get("PATH_INFO") or "/"

    def object_input(
        self,
        *,
        parse_form: Callable[[str], dict[str, Any]],
        refuse: Callable[[str], Exception],
    ) -> dict[str, Any]:
        """A control route's input: a JSON object, or an HTML form's fields read by
        `parse_form`. `refuse(message)` is the error raised for a body that is neither."""
        if not self.body:
            return {}
        if self.headers["content-type"].startswith(FORM):
            return parse_form(self.body.decode())
        try:
            data = json.loads(self.body)
        except ValueError:
            raise refuse("The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise refuse("The request body must be a JSON object.")
        return data


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)

    def send(self, start_response: Callable[..., Any]) -> list[bytes]:
        """Start the WSGI response and return its body."""
        start_response(
            f"{self.status} {http.HTTPStatus(self.status).phrase}",
            [
                ("Content-Type", self.content_type),
                ("Content-Length", str(len(self.body))),
                *self.headers,
            ],
        )
        return [self.body]


def json_response(
    status: int,
    data: Any,
    headers: list[tuple[str, str]] | None = None,
    *,
    content_type: str = "application/json",
    ensure_ascii: bool = True,
) -> Response:
    body = json.dumps(data, indent=2, ensure_ascii=ensure_ascii).encode()
    return Response(status, body, content_type, list(headers or []))


Handler = TypeVar("Handler", bound=Callable[..., Any])
# A method, a pattern the path must match to its end, and what handles the request.
Route = tuple[str, re.Pattern[str], Handler]


# The routes of a table whose handlers answer a Response.
ResponseRoute = Route[Callable[..., Response]]


def route(method: str, pattern: str, handler: Handler) -> Route[Handler]:
    return method, re.compile(pattern + "$"), handler


def find_route(
    routes: list[Route[Handler]], method: str, path: str
) -> tuple[Handler, dict[str, Any]] | None:
    """The first route matching the method and path, with the path's named groups."""
    for route_method, pattern, handler in routes:
        found = pattern.match(path)
        if found and route_method == method:
            return handler, found.groupdict()
    return None
