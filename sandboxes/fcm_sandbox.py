"""A local, stateful fake of Firebase Cloud Messaging for the tests and the offline demo.

It plays two Google services, so the official `firebase-admin` SDK works against it unchanged:

* Google's OAuth2 token endpoint (`POST /token`), which a service account's `token_uri` names.
  google-auth posts a JWT-bearer assertion signed RS256 with the account's private key; the
  sandbox verifies it with the public half of the key it issued and answers an access token.
* FCM HTTP v1 (`POST /v1/projects/{project_id}/messages:send`), which requires that access
  token, validates the message much as FCM does, records what it accepts and answers FCM's
  own error bodies (so the SDK raises `UnregisteredError`, `InvalidArgumentError`, …).

Only the standard library and `cryptography` (a base dependency of Callrix) are used: the
product imports this module at run time with its base dependencies only.

    sandbox = FcmSandbox()
    server, base_url = serve(sandbox=sandbox)
    service_account = sandbox.create_service_account("aurora-push")   # token_uri -> sandbox
    # settings.FCM_API_BASE = base_url, then send through firebase-admin as usual
    sandbox.messages(token="device-token")

Routes under `/_sandbox/` are not Google's: they play the devices' and Google's part (a token
goes stale, FCM has an outage) and show what was sent.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import http
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sandboxes._server import ThreadingServer, build_server, serve_in_thread

logger = logging.getLogger(__name__)

ACCESS_TOKEN_LIFETIME_SECONDS = 3600
# Google refuses assertions meant to live longer than an hour, and allows some clock skew.
MAX_ASSERTION_LIFETIME_SECONDS = 3600
CLOCK_SKEW_SECONDS = 300
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# google-auth always addresses its assertion to Google's token endpoint, whatever `token_uri`
# says; Google also accepts its older endpoints' names. The sandbox's own URL is accepted too.
GOOGLE_TOKEN_AUDIENCES = (
    "https://oauth2.googleapis.com/token",
    "https://www.googleapis.com/oauth2/v4/token",
    "https://accounts.google.com/o/oauth2/token",
)
# Either scope lets an access token send FCM messages.
FCM_SCOPES = (
    "https://www.googleapis.com/auth/firebase.messaging",
    "https://www.googleapis.com/auth/cloud-platform",
)
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
MAX_TTL_SECONDS = 4 * 7 * 24 * 3600  # FCM keeps a message at most four weeks
MAX_PAYLOAD_BYTES = 4096
RESERVED_DATA_KEYS = ("from", "message_type")
RESERVED_DATA_PREFIXES = ("google", "gcm")
APNS_PRIORITIES = ("1", "5", "10")
APNS_PUSH_TYPES = (
    "alert",
    "background",
    "location",
    "voip",
    "complication",
    "fileprovider",
    "mdm",
    "liveactivity",
    "pushtotalk",
    "controls",
    "widgets",
)
ANDROID_PRIORITIES = ("normal", "high")
_PROJECT_ID = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
_TOPIC = re.compile(r"[a-zA-Z0-9\-_.~%]{1,900}")
_DURATION = re.compile(r"(\d+)(\.\d{1,9})?s")
_ANALYTICS_LABEL = re.compile(r"[a-zA-Z0-9\-_.~%]{1,50}")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")

UNAUTHENTICATED_MESSAGE = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, "
    "login cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)
BAD_CREDENTIALS_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)


# ---------------------------------------------------------------------------------------------
# Errors, in the shapes Google answers them


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


def _invalid(message: str, field: str | None = None, *, fcm: bool = True) -> FcmApiError:
    """INVALID_ARGUMENT. FCM adds its FcmError detail to its own checks (token, recipient,
    size); malformed JSON gets only the generic BadRequest detail, as from Google's front end."""
    return FcmApiError(
        400,
        message,
        status="INVALID_ARGUMENT",
        fcm_code="INVALID_ARGUMENT" if fcm else None,
        field=field,
    )


def _bad_json(message: str, field: str) -> FcmApiError:
    return _invalid(message, field, fcm=False)


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


# ---------------------------------------------------------------------------------------------
# Keys and JWTs


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _json_segment(part: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64url_decode(part))
    except (ValueError, binascii.Error):
        raise OAuthError("invalid_grant", "Invalid JWT: malformed segment.") from None
    if not isinstance(value, dict):
        raise OAuthError("invalid_grant", "Invalid JWT: malformed segment.")
    return value


def _new_key() -> tuple[str, str]:
    """A fresh RSA key as (PKCS#8 private PEM, as Google issues it; SubjectPublicKeyInfo PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def _rs256_valid(public_pem: str, signing_input: bytes, signature: bytes) -> bool:
    public_key = serialization.load_pem_public_key(public_pem.encode())
    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    try:
        public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# FCM message validation (the parts of FCM's checks the product can get wrong)


def _snake(name: str) -> str:
    # Google's JSON parser accepts a field's lowerCamelCase and its proto (snake_case) name.
    return _CAMEL.sub("_", name).lower()


def _fields(value: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        at = f" at '{where}'" if where else ""
        raise _bad_json(f"Invalid JSON payload received. Expected an object{at}.", where)
    fields: dict[str, Any] = {}
    for key, item in value.items():
        name = _snake(key)
        if name not in allowed:
            at = f" at '{where}'" if where else ""
            raise _bad_json(
                f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.',
                where,
            )
        fields[name] = item
    return fields


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _bad_json(f"Invalid value at '{where}' (TYPE_STRING), {json.dumps(value)}", where)
    return value


def _string_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _bad_json(f"Invalid value at '{where}' (map), {json.dumps(value)}", where)
    for index, item in enumerate(value.values()):
        _string(item, f"{where}[{index}].value")
    return value


def _check_data(value: Any, where: str) -> dict[str, str]:
    data = _string_map(value, where)
    for key in data:
        lowered = key.lower()
        if lowered in RESERVED_DATA_KEYS or lowered.startswith(RESERVED_DATA_PREFIXES):
            raise _invalid(f"Invalid data payload key: {key} is a reserved word.", where)
    return data


def _check_duration(value: Any, where: str) -> int:
    text = _string(value, where)
    found = _DURATION.fullmatch(text)
    if found is None:
        raise _bad_json(
            f"Invalid value at '{where}' (type.googleapis.com/google.protobuf.Duration), "
            f"{json.dumps(text)}",
            where,
        )
    seconds = int(found.group(1))
    if seconds > MAX_TTL_SECONDS:
        raise _invalid(f"TTL must not exceed {MAX_TTL_SECONDS}s (four weeks).", where)
    return seconds


def _check_notification(value: Any, where: str) -> None:
    for name, item in _fields(value, where, ("title", "body", "image")).items():
        _string(item, f"{where}.{name}")


def _check_android(value: Any) -> None:
    where = "message.android"
    android = _fields(
        value,
        where,
        (
            "collapse_key",
            "priority",
            "ttl",
            "restricted_package_name",
            "data",
            "notification",
            "fcm_options",
            "direct_boot_ok",
            "bandwidth_constrained_ok",
            "restricted_satellite_ok",
        ),
    )
    for name in ("collapse_key", "restricted_package_name"):
        if name in android:
            _string(android[name], f"{where}.{name}")
    if "priority" in android:
        priority = _string(android["priority"], f"{where}.priority")
        if priority.lower() not in ANDROID_PRIORITIES:
            raise _bad_json(
                f"Invalid value at '{where}.priority' "
                "(type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), "
                f"{json.dumps(priority)}",
                f"{where}.priority",
            )
    if "ttl" in android:
        _check_duration(android["ttl"], f"{where}.ttl")
    if "data" in android:
        _check_data(android["data"], f"{where}.data")
    for name in ("notification", "fcm_options"):
        if name in android and not isinstance(android[name], dict):
            raise _bad_json(f"Invalid value at '{where}.{name}', not an object", f"{where}.{name}")


def _check_apns(value: Any, has_notification: bool) -> None:
    where = "message.apns"
    apns = _fields(value, where, ("headers", "payload", "fcm_options", "live_activity_token"))
    headers = {k.lower(): v for k, v in _string_map(apns.get("headers", {}), where).items()}
    payload = apns.get("payload", {})
    if not isinstance(payload, dict):
        raise _bad_json(f"Invalid value at '{where}.payload', not an object", f"{where}.payload")
    aps = payload.get("aps", {})
    if not isinstance(aps, dict):
        raise _invalid("apns.payload.aps must be an object.", f"{where}.payload")
    priority = headers.get("apns-priority")
    if priority is not None and priority not in APNS_PRIORITIES:
        raise _invalid(f"Invalid apns-priority header: {priority}", f"{where}.headers")
    push_type = headers.get("apns-push-type")
    if push_type is not None and push_type not in APNS_PUSH_TYPES:
        raise _invalid(f"Invalid apns-push-type header: {push_type}", f"{where}.headers")
    if push_type == "voip":
        # FCM cannot deliver PushKit pushes; the sandbox refuses them so nothing relies on it.
        raise _invalid("VoIP (PushKit) pushes cannot be sent through FCM.", f"{where}.headers")
    expiration = headers.get("apns-expiration")
    if expiration is not None and not expiration.isdigit():
        raise _invalid(f"Invalid apns-expiration header: {expiration}", f"{where}.headers")
    collapse_id = headers.get("apns-collapse-id")
    if collapse_id is not None and len(collapse_id.encode()) > 64:
        raise _invalid("apns-collapse-id must be at most 64 bytes.", f"{where}.headers")
    if push_type == "background":
        _check_background_push(aps, priority, has_notification)


def _check_background_push(aps: dict[str, Any], priority: str | None, has_alert: bool) -> None:
    """Apple: a background push carries `content-available: 1` and nothing to show, and must
    be sent at priority 5 (10 is an error, and FCM sends 10 when the header is absent)."""
    where = "message.apns"
    if priority != "5":
        raise _invalid("Background pushes must set apns-priority to 5.", f"{where}.headers")
    if aps.get("content-available") != 1:
        raise _invalid("Background pushes must set aps content-available to 1.", f"{where}.payload")
    if has_alert or any(key in aps for key in ("alert", "badge", "sound")):
        raise _invalid(
            "Background pushes must not carry an alert, badge or sound.", f"{where}.payload"
        )


def _device(message: dict[str, Any]) -> str | None:
    """The device a message targets, by registration token or installation id."""
    return message.get("token") or message.get("fid")


def check_send_request(body: Any) -> tuple[dict[str, Any], bool]:
    """The message of a `messages:send` body and its `validate_only` flag, or FcmApiError."""
    request = _fields(body, "", ("message", "validate_only"))
    validate_only = request.get("validate_only", False)
    if not isinstance(validate_only, bool):
        raise _bad_json(
            f"Invalid value at 'validate_only' (TYPE_BOOL), {json.dumps(validate_only)}",
            "validate_only",
        )
    where = "message"
    if "message" not in request:
        raise _invalid("Message must be set.", where)
    message = _fields(
        request["message"],
        where,
        (
            "name",
            "data",
            "notification",
            "android",
            "webpush",
            "apns",
            "fcm_options",
            "token",
            "fid",
            "topic",
            "condition",
        ),
    )
    # `fid` (a Firebase Installation ID) is FCM's newer device target; `token` still works.
    targets = [name for name in ("token", "fid", "topic", "condition") if name in message]
    if not targets:
        raise _invalid("Recipient of the message is not set.", where)
    if len(targets) > 1:
        raise _bad_json(
            f"Invalid value at 'message' (oneof), oneof field 'target' is already set. "
            f"Cannot set '{targets[1]}'",
            where,
        )
    target = targets[0]
    value = _string(message[target], f"{where}.{target}")
    if target in ("token", "fid") and not value:
        raise _invalid(
            "The registration token is not a valid FCM registration token", f"{where}.{target}"
        )
    if target == "topic" and not _TOPIC.fullmatch(value.removeprefix("/topics/")):
        raise _invalid(f"Invalid topic name: {value}", f"{where}.topic")
    if target == "condition" and "in topics" not in value:
        raise _invalid(f"Invalid condition expression: {value}", f"{where}.condition")
    if "data" in message:
        _check_data(message["data"], f"{where}.data")
    if "notification" in message:
        _check_notification(message["notification"], f"{where}.notification")
    if "android" in message:
        _check_android(message["android"])
    if "apns" in message:
        _check_apns(message["apns"], has_notification="notification" in message)
    if "webpush" in message and not isinstance(message["webpush"], dict):
        raise _bad_json("Invalid value at 'message.webpush', not an object", f"{where}.webpush")
    if "fcm_options" in message:
        options = _fields(message["fcm_options"], f"{where}.fcm_options", ("analytics_label",))
        label = _string(options.get("analytics_label", "x"), f"{where}.fcm_options")
        if not _ANALYTICS_LABEL.fullmatch(label):
            raise _invalid("Invalid analytics label.", f"{where}.fcm_options.analytics_label")
    size = len(json.dumps(message.get("data", {})).encode())
    size += len(json.dumps(message.get("notification", {})).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise _invalid("Message is too big", where)
    return request["message"], validate_only


# ---------------------------------------------------------------------------------------------
# HTTP plumbing


@dataclass
class ServiceAccount:
    """A service account the sandbox issued: the public half of its key, to verify assertions."""

    client_email: str
    project_id: str
    private_key_id: str
    public_key_pem: str
    client_id: str
    disabled: bool = False
    created: int = field(default_factory=lambda: int(time.time()))


@dataclass
class AccessToken:
    client_email: str
    project_id: str
    scopes: list[str]
    expires_at: float


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    base_url: str

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
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
            path=environ.get("PATH_INFO") or "/",
            query=environ.get("QUERY_STRING", ""),
            headers=headers,
            body=body,
            base_url=f"{environ.get('wsgi.url_scheme', 'http')}://{host}",
        )

    def control_input(self) -> dict[str, Any]:
        """A control route's input: a JSON object, or form fields."""
        if not self.body:
            return {}
        if self.headers["content-type"].startswith("application/x-www-form-urlencoded"):
            return dict(parse_qsl(self.body.decode()))
        try:
            data = json.loads(self.body)
        except ValueError:
            raise ControlError("The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise ControlError("The request body must be a JSON object.")
        return data

    def query_value(self, name: str) -> str | None:
        values = parse_qs(self.query).get(name)
        return values[0] if values else None


@dataclass
class Response:
    status: int
    data: Any
    headers: list[tuple[str, str]] = field(default_factory=list)

    def start(self, start_response: Callable[..., Any]) -> list[bytes]:
        body = json.dumps(self.data, indent=2).encode()
        start_response(
            f"{self.status} {http.HTTPStatus(self.status).phrase}",
            [
                ("Content-Type", "application/json; charset=UTF-8"),
                ("Content-Length", str(len(body))),
                *self.headers,
            ],
        )
        return [body]


Route = tuple[str, re.Pattern[str], Callable[..., Response]]


def _route(method: str, pattern: str, handler: Callable[..., Response]) -> Route:
    return method, re.compile(pattern), handler


# ---------------------------------------------------------------------------------------------
# The sandbox


class FcmSandbox:
    """The fake Google token endpoint and FCM: a WSGI application holding its state in memory
    (and, when given a state file, its service accounts and messages across restarts)."""

    def __init__(self, state_file: str | os.PathLike[str] | None = None):
        # Where the sandbox is reached; `serve()` sets it. Issued `token_uri`s point at it.
        self.base_url: str | None = None
        self._state_file = Path(state_file) if state_file else None
        # One lock for all state: every request and control action runs whole under it.
        self._lock = threading.Lock()
        self._accounts: dict[str, ServiceAccount] = {}  # client_email -> account
        self._access_tokens: dict[str, AccessToken] = {}
        self._grants: list[dict[str, Any]] = []
        self._messages: list[dict[str, Any]] = []
        self._unregistered: set[str] = set()
        self._invalid: set[str] = set()
        self._failures_left = 0
        self._routes = self._build_routes()
        self._load()

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        request = Request.from_environ(environ)
        try:
            response = self._dispatch(request)
        except FcmApiError as error:
            response = Response(error.http_status, error.body())
        except OAuthError as error:
            response = Response(error.http_status, error.body(), [("Cache-Control", "no-store")])
        except ControlError as error:
            response = Response(error.http_status, {"error": error.message})
        except Exception:
            logger.exception("FCM sandbox failed on %s %s", request.method, request.path)
            failure = FcmApiError(500, "Internal error encountered.", status="INTERNAL")
            response = Response(500, failure.body())
        return response.start(start_response)

    def _build_routes(self) -> list[Route]:
        control = "/_sandbox"
        email = r"(?P<client_email>[^/]+)"
        return [
            _route("POST", r"/token", self._token),
            _route("POST", r"/v1/projects/(?P<project_id>[^/]+)/messages:send", self._send),
            _route("POST", rf"{control}/service-accounts", self._ctl_service_account_create),
            _route(
                "POST", rf"{control}/service-accounts/{email}/disable", self._ctl_account_disable
            ),
            _route("GET", rf"{control}/grants", self._ctl_grants),
            _route("GET", rf"{control}/messages", self._ctl_messages),
            _route("POST", rf"{control}/unregister", self._ctl_unregister),
            _route("POST", rf"{control}/invalidate", self._ctl_invalidate),
            _route("POST", rf"{control}/fail-next", self._ctl_fail_next),
            _route("POST", rf"{control}/reset", self._ctl_reset),
        ]

    def _dispatch(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        for method, pattern, handler in self._routes:
            found = pattern.fullmatch(path)
            if found is not None and method == request.method:
                return handler(request, **found.groupdict())
        if path.startswith("/_sandbox/"):
            raise ControlError(f"Unknown sandbox route: {request.method} {path}", 404)
        raise FcmApiError(
            404,
            f"The requested URL {path} was not found for {request.method}.",
            status="NOT_FOUND",
        )

    # -- Google's OAuth2 token endpoint --------------------------------------------------------

    def _token(self, request: Request) -> Response:
        form = dict(parse_qsl(request.body.decode(errors="replace"), keep_blank_values=True))
        grant_type = form.get("grant_type", "")
        if grant_type != JWT_BEARER_GRANT:
            raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        with self._lock:
            grant = self._grant(form.get("assertion", ""), f"{request.base_url}/token")
        return Response(
            200,
            {
                "access_token": grant["access_token"],
                "expires_in": ACCESS_TOKEN_LIFETIME_SECONDS,
                "token_type": "Bearer",
            },
            [("Cache-Control", "no-store")],
        )

    def _grant(self, assertion: str, token_uri: str) -> dict[str, Any]:
        parts = assertion.split(".")
        if len(parts) != 3:
            raise OAuthError("invalid_grant", "Invalid JWT: malformed assertion.")
        header, claims = _json_segment(parts[0]), _json_segment(parts[1])
        if header.get("alg") != "RS256":
            raise OAuthError("invalid_grant", "Invalid JWT: the signing algorithm must be RS256.")
        account = self._accounts.get(str(claims.get("iss", "")))
        if account is None:
            raise OAuthError("invalid_grant", "Invalid grant: account not found")
        try:
            signature = _b64url_decode(parts[2])
        except (ValueError, binascii.Error):
            signature = b""
        kid = header.get("kid")
        signed = f"{parts[0]}.{parts[1]}".encode()
        if (
            account.disabled
            or kid not in (None, account.private_key_id)
            or not _rs256_valid(account.public_key_pem, signed, signature)
        ):
            raise OAuthError("invalid_grant", "Invalid JWT Signature.")
        if claims.get("aud") not in (*GOOGLE_TOKEN_AUDIENCES, token_uri):
            raise OAuthError("invalid_grant", "Invalid JWT: Failed audience check.")
        self._check_lifetime(claims)
        scopes = str(claims.get("scope") or "").split()
        if not scopes:
            raise OAuthError("invalid_scope", "Empty or missing scope not allowed.")
        now = time.time()
        access_token = "ya29.sandbox-" + secrets.token_urlsafe(48)
        self._access_tokens[access_token] = AccessToken(
            client_email=account.client_email,
            project_id=account.project_id,
            scopes=scopes,
            expires_at=now + ACCESS_TOKEN_LIFETIME_SECONDS,
        )
        grant = {
            "access_token": access_token,
            "client_email": account.client_email,
            "project_id": account.project_id,
            "private_key_id": kid,
            "scopes": scopes,
            "claims": claims,
            "assertion_verified": True,
            "issued_at": now,
        }
        self._grants.append(grant)
        return grant

    @staticmethod
    def _check_lifetime(claims: dict[str, Any]) -> None:
        issued, expires = claims.get("iat"), claims.get("exp")
        now = time.time()
        if (
            not isinstance(issued, int | float)
            or not isinstance(expires, int | float)
            or expires - issued > MAX_ASSERTION_LIFETIME_SECONDS
            or issued > now + CLOCK_SKEW_SECONDS
            or expires < now - CLOCK_SKEW_SECONDS
        ):
            raise OAuthError(
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                "reasonable timeframe. Check your iat and exp values in the JWT claim.",
            )

    # -- FCM HTTP v1 ---------------------------------------------------------------------------

    def _send(self, request: Request, project_id: str) -> Response:
        with self._lock:
            caller = self._caller(request, project_id)
            if self._failures_left > 0:
                self._failures_left -= 1
                raise FcmApiError(
                    503,
                    "The service is currently unavailable.",
                    status="UNAVAILABLE",
                    fcm_code="UNAVAILABLE",
                )
            try:
                body = json.loads(request.body or b"null")
            except ValueError:
                raise _bad_json("Invalid JSON payload received. Unexpected token.", "") from None
            message, validate_only = check_send_request(body)
            self._check_token(_device(message))
            if validate_only:
                return Response(200, {"name": f"projects/{project_id}/messages/fake_message_id"})
            message_id = f"0:{time.time_ns() // 1000}%{secrets.token_hex(8)}"
            name = f"projects/{project_id}/messages/{message_id}"
            self._messages.append(
                {
                    "id": message_id,
                    "name": name,
                    "project_id": project_id,
                    "client_email": caller.client_email,
                    "received_at": time.time(),
                    "message": copy.deepcopy(message),
                }
            )
            self._save()
        return Response(200, {"name": name})

    def _caller(self, request: Request, project_id: str) -> AccessToken:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise FcmApiError(401, UNAUTHENTICATED_MESSAGE, status="UNAUTHENTICATED")
        token = self._access_tokens.get(credential.strip())
        if token is None or token.expires_at < time.time():
            raise FcmApiError(401, BAD_CREDENTIALS_MESSAGE, status="UNAUTHENTICATED")
        if not set(token.scopes) & set(FCM_SCOPES):
            raise FcmApiError(
                403, "Request had insufficient authentication scopes.", status="PERMISSION_DENIED"
            )
        if token.project_id != project_id:
            raise FcmApiError(
                403,
                f"Permission 'cloudmessaging.messages.create' denied on resource "
                f"'//cloudresourcemanager.googleapis.com/projects/{project_id}' "
                "(or it may not exist).",
                status="PERMISSION_DENIED",
            )
        return token

    def _check_token(self, token: str | None) -> None:
        if not token:
            return
        if token in self._invalid:
            raise _invalid(
                "The registration token is not a valid FCM registration token", "message.token"
            )
        if token in self._unregistered:
            raise FcmApiError(
                404, "Requested entity was not found.", status="NOT_FOUND", fcm_code="UNREGISTERED"
            )

    # -- Control: Python -----------------------------------------------------------------------

    def create_service_account(
        self, project_id: str = "callrix-default", *, base_url: str | None = None
    ) -> dict[str, Any]:
        """A new service account of `project_id` with a fresh RSA key: the JSON a Firebase
        console download holds, with `token_uri` pointing at this sandbox."""
        base = (base_url or self.base_url or "").rstrip("/")
        if not base:
            raise ControlError("Serve the sandbox first (its token_uri needs its address).")
        if not _PROJECT_ID.fullmatch(project_id):
            raise ControlError(f"Invalid project id: {project_id!r}")
        private_pem, public_pem = _new_key()
        email = f"firebase-adminsdk-{secrets.token_hex(3)[:5]}@{project_id}.iam.gserviceaccount.com"
        account = ServiceAccount(
            client_email=email,
            project_id=project_id,
            private_key_id=secrets.token_hex(20),
            public_key_pem=public_pem,
            client_id=str(secrets.randbelow(9 * 10**20) + 10**20),
        )
        with self._lock:
            self._accounts[email] = account
            self._save()
        return {
            "type": "service_account",
            "project_id": project_id,
            "private_key_id": account.private_key_id,
            "private_key": private_pem,
            "client_email": email,
            "client_id": account.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": f"{base}/token",
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": (
                f"https://www.googleapis.com/robot/v1/metadata/x509/{quote(email, safe='')}"
            ),
            "universe_domain": "googleapis.com",
        }

    def disable_service_account(self, client_email: str) -> None:
        """The key is deleted in Google Cloud: assertions fail and issued tokens stop working."""
        with self._lock:
            account = self._accounts.get(client_email)
            if account is None:
                raise ControlError(f"No such service account: {client_email}", 404)
            account.disabled = True
            for token, info in list(self._access_tokens.items()):
                if info.client_email == client_email:
                    del self._access_tokens[token]
            self._save()

    def grants(self, client_email: str | None = None) -> list[dict[str, Any]]:
        """Every access token issued, oldest first, with the verified assertion's claims."""
        with self._lock:
            return [
                copy.deepcopy(grant)
                for grant in self._grants
                if client_email is None or grant["client_email"] == client_email
            ]

    def messages(
        self, token: str | None = None, project_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Every accepted message, oldest first: `{id, name, project_id, client_email,
        received_at, message}` where `message` is the body FCM received. `token` matches a
        message's `token` or `fid` target."""
        with self._lock:
            return [
                copy.deepcopy(record)
                for record in self._messages
                if (token is None or _device(record["message"]) == token)
                and (project_id is None or record["project_id"] == project_id)
            ]

    def unregister(self, token: str) -> None:
        """The app was uninstalled: sends to `token` (or that `fid`) answer 404 UNREGISTERED
        from now on."""
        with self._lock:
            self._unregistered.add(token)
            self._save()

    def invalidate(self, token: str) -> None:
        """`token` is not a registration token at all: sends answer 400 INVALID_ARGUMENT."""
        with self._lock:
            self._invalid.add(token)
            self._save()

    def fail_next(self, n: int = 1) -> None:
        """The next `n` sends (any project) answer 503 UNAVAILABLE."""
        if n < 0:
            raise ControlError("n must not be negative.")
        with self._lock:
            self._failures_left = n

    def reset(self) -> None:
        """Forget messages, grants, token states and pending failures; keep service accounts
        (and the access tokens issued to them)."""
        with self._lock:
            self._messages.clear()
            self._grants.clear()
            self._unregistered.clear()
            self._invalid.clear()
            self._failures_left = 0
            self._save()

    # -- Control: HTTP -------------------------------------------------------------------------

    def _ctl_service_account_create(self, request: Request) -> Response:
        data = request.control_input()
        project_id = str(data.get("project_id") or "callrix-default")
        return Response(200, self.create_service_account(project_id, base_url=request.base_url))

    def _ctl_account_disable(self, request: Request, client_email: str) -> Response:
        self.disable_service_account(client_email)
        return Response(200, {"client_email": client_email, "disabled": True})

    def _ctl_grants(self, request: Request) -> Response:
        return Response(200, {"grants": self.grants(request.query_value("client_email"))})

    def _ctl_messages(self, request: Request) -> Response:
        found = self.messages(request.query_value("token"), request.query_value("project_id"))
        return Response(200, {"messages": found})

    def _ctl_unregister(self, request: Request) -> Response:
        token = self._control_token(request)
        self.unregister(token)
        return Response(200, {"token": token, "state": "unregistered"})

    def _ctl_invalidate(self, request: Request) -> Response:
        token = self._control_token(request)
        self.invalidate(token)
        return Response(200, {"token": token, "state": "invalid"})

    def _ctl_fail_next(self, request: Request) -> Response:
        raw = request.control_input().get("n", 1)
        try:
            count = int(raw)
        except (TypeError, ValueError):
            raise ControlError(f"n must be an integer, not {raw!r}.") from None
        self.fail_next(count)
        return Response(200, {"failing_next": count})

    def _ctl_reset(self, request: Request) -> Response:
        self.reset()
        return Response(200, {"reset": True})

    @staticmethod
    def _control_token(request: Request) -> str:
        token = request.control_input().get("token")
        if not isinstance(token, str) or not token:
            raise ControlError("token is required.")
        return token

    # -- State ---------------------------------------------------------------------------------

    def _save(self) -> None:
        if self._state_file is None:
            return
        state = {
            "accounts": [asdict(account) for account in self._accounts.values()],
            "messages": self._messages,
            "unregistered": sorted(self._unregistered),
            "invalid": sorted(self._invalid),
        }
        partial = self._state_file.with_suffix(self._state_file.suffix + ".partial")
        partial.write_text(json.dumps(state))
        os.replace(partial, self._state_file)

    def _load(self) -> None:
        # Access tokens are not kept: after a restart google-auth meets a 401 and fetches a
        # new one, as it would from Google.
        if self._state_file is None or not self._state_file.exists():
            return
        state = json.loads(self._state_file.read_text())
        self._accounts = {a["client_email"]: ServiceAccount(**a) for a in state["accounts"]}
        self._messages = state["messages"]
        self._unregistered = set(state["unregistered"])
        self._invalid = set(state["invalid"])


# ---------------------------------------------------------------------------------------------
# Running it


_LOG_PREFIX = "fcm sandbox: "


def _server(host: str, port: int, sandbox: FcmSandbox) -> tuple[ThreadingServer, str]:
    server, base_url = build_server(
        sandbox, host=host, port=port, logger_name=__name__, log_prefix=_LOG_PREFIX
    )
    if sandbox.base_url is None:
        sandbox.base_url = base_url
    return server, base_url


def serve(
    host: str = "127.0.0.1", port: int = 0, sandbox: FcmSandbox | None = None
) -> tuple[ThreadingServer, str]:
    """Serve a sandbox from a daemon thread; port 0 picks a free port. Returns the server
    (`.shutdown()` stops it, `.sandbox` is the app) and its base URL."""
    app = sandbox or FcmSandbox()
    server, base_url = serve_in_thread(
        app,
        host=host,
        port=port,
        thread_name="fcm-sandbox",
        logger_name=__name__,
        log_prefix=_LOG_PREFIX,
    )
    if app.base_url is None:
        app.base_url = base_url
    return server, base_url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the local FCM sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8020)
    parser.add_argument("--state-file", help="JSON file that keeps accounts across restarts")
    parser.add_argument(
        "--print-service-account",
        metavar="PROJECT_ID",
        help="create a service account for this project and print its JSON",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    server, base_url = _server(args.host, args.port, FcmSandbox(state_file=args.state_file))
    if args.print_service_account:
        print(json.dumps(server.sandbox.create_service_account(args.print_service_account)))
    logger.info("FCM sandbox on %s (FCM_API_BASE=%s)", base_url, base_url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
