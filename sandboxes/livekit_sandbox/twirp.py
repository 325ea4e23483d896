"""Twirp, as LiveKit's server API speaks it: protobuf or JSON bodies, and errors answered
as `{"code", "msg", "meta"}` with the HTTP status of their code."""

from __future__ import annotations

import json
from typing import Any

from sandboxes import _wsgi
from sandboxes._wsgi import Response

PROTOBUF = "application/protobuf"
JSON = "application/json"

# Twirp's error codes and the HTTP status each is answered with.
TWIRP_STATUS = {
    "canceled": 408,
    "unknown": 500,
    "invalid_argument": 400,
    "malformed": 400,
    "deadline_exceeded": 408,
    "not_found": 404,
    "bad_route": 404,
    "already_exists": 409,
    "permission_denied": 403,
    "unauthenticated": 401,
    "resource_exhausted": 429,
    "failed_precondition": 412,
    "aborted": 409,
    "out_of_range": 400,
    "unimplemented": 501,
    "internal": 500,
    "unavailable": 503,
    "dataloss": 500,
}


class TwirpError(Exception):
    """An error answered in Twirp's JSON shape (`{"code", "msg", "meta"}`), which the client
    raises as `api.TwirpError` with that code and the HTTP status."""

    def __init__(self, code: str, msg: str, meta: dict[str, str] | None = None):
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.meta = meta or {}

    @property
    def status(self) -> int:
        return TWIRP_STATUS[self.code]

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.meta:
            body["meta"] = self.meta
        return body


def permission_denied() -> TwirpError:
    # LiveKit answers a missing grant with `unauthenticated`, not `permission_denied`.
    return TwirpError("unauthenticated", "permissions denied")


class Request(_wsgi.Request):
    @staticmethod
    def path_from(environ: dict[str, Any]) -> str:
        # WSGI hands the path over as latin-1; room names are UTF-8.
        raw_path = environ.get("PATH_INFO") or "/"
        try:
            return raw_path.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return raw_path

    @property
    def media_type(self) -> str:
        return self.headers["content-type"].split(";")[0].strip().lower()

    def json(self) -> dict[str, Any]:
        if not self.body:
            return {}
        try:
            data = json.loads(self.body)
        except ValueError:
            raise TwirpError("malformed", "the request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise TwirpError("malformed", "the request body must be a JSON object")
        return data


def json_response(status: int, data: Any) -> Response:
    return _wsgi.json_response(status, data, ensure_ascii=False)
