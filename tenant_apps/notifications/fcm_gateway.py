"""The only module that talks to Firebase Cloud Messaging. It speaks our words (a push to one
device, and what became of it) to the rest of the code and FCM's to FCM, through the official
firebase-admin SDK: one named firebase-admin app per Firebase service-account key, so each
licensee's pushes go out through its own Firebase project (Callrix's default project when the
licensee has none), against `FCM_API_BASE` when set (the local sandbox) and Google otherwise."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import firebase_admin
import google.auth.exceptions
import requests
import requests.adapters
import requests.utils
from django.conf import settings
from firebase_admin import credentials, exceptions, messaging
from urllib3.util.retry import Retry

from tenant_apps.notifications.errors import InvalidFirebaseCredentials

logger = logging.getLogger(__name__)

GOOGLE_FCM_ORIGIN = "https://fcm.googleapis.com"
REQUIRED_FIELDS = ("project_id", "private_key", "client_email", "token_uri")
MAX_TTL_SECONDS = 4 * 7 * 24 * 3600  # FCM keeps an undelivered message at most four weeks
MAX_COLLAPSE_KEY_BYTES = 64  # APNs' limit for apns-collapse-id
# One quick retry when the connection is refused or FCM answers 500/503; none after a read
# timeout (the push may have gone out), and no waiting out Retry-After: a ring push is
# worthless once the ring is over. (The SDK's own policy backs off through 4 retries.)
FCM_RETRY = Retry(
    total=2,
    connect=1,
    read=0,
    status=1,
    other=0,
    status_forcelist=(500, 503),
    allowed_methods=None,
    backoff_factor=0.25,
    raise_on_status=False,
    respect_retry_after_header=False,
)

PushStatus = Literal["sent", "unregistered", "invalid", "failed"]


@dataclass(frozen=True)
class PushResult:
    """What became of one push: `sent` (with FCM's message id), `unregistered` (the app is
    gone from the device: forget the token), `invalid` (not a token of this Firebase project:
    forget it too) or `failed` (FCM, Google or our credentials failed: the token is fine)."""

    status: PushStatus
    message_id: str | None = None
    error: str | None = None


# ---------------------------------------------------------------------------------------------
# Credentials and firebase-admin apps


def credentials_validate(credentials_json: str) -> str:
    """The Firebase project id of a service-account key (the JSON downloaded from the Firebase
    console), or InvalidFirebaseCredentials. Offline: it proves the key is well formed and its
    private key readable, not that Google still honours it (a deleted key shows up as failed
    pushes)."""
    info = _parse(credentials_json)
    _certificate(info)
    return info["project_id"]


def app_name(credentials_json: str) -> str:
    """The name of the firebase-admin app serving these credentials: one per key, however its
    JSON is formatted."""
    return _name(_parse(credentials_json))


def _parse(credentials_json: str) -> dict[str, Any]:
    if not isinstance(credentials_json, str) or not credentials_json.strip():
        raise InvalidFirebaseCredentials("The Firebase credentials are empty.")
    try:
        info = json.loads(credentials_json)
    except ValueError:
        raise InvalidFirebaseCredentials("The Firebase credentials are not valid JSON.") from None
    if not isinstance(info, dict):
        raise InvalidFirebaseCredentials(
            "The Firebase credentials must be a JSON object: a service-account key file."
        )
    if info.get("type") != "service_account":
        raise InvalidFirebaseCredentials(
            'The Firebase credentials are not a service-account key ("type" must be '
            '"service_account").'
        )
    missing = [
        name
        for name in REQUIRED_FIELDS
        if not isinstance(info.get(name), str) or not info[name].strip()
    ]
    if missing:
        raise InvalidFirebaseCredentials(
            f"The Firebase credentials lack {', '.join(missing)}. Download a new private key "
            "from the Firebase console (Project settings, Service accounts)."
        )
    return info


def _certificate(info: dict[str, Any]) -> credentials.Certificate:
    try:
        return credentials.Certificate(info)
    except ValueError:  # google-auth's MalformedError is one too
        raise InvalidFirebaseCredentials(
            "The private key in the Firebase credentials cannot be read."
        ) from None


def _default_credentials_json() -> str:
    """Callrix's own Firebase project: FCM_DEFAULT_CREDENTIALS holds the JSON or a path to it."""
    value = (settings.FCM_DEFAULT_CREDENTIALS or "").strip()
    if not value or value.startswith("{"):
        return value
    try:
        return Path(value).expanduser().read_text(encoding="utf-8")
    except OSError as error:
        raise InvalidFirebaseCredentials(
            f"FCM_DEFAULT_CREDENTIALS names a file that cannot be read ({error.strerror})."
        ) from None


def _name(info: dict[str, Any]) -> str:
    canonical = json.dumps(info, sort_keys=True, separators=(",", ":"))
    return "callrix-fcm-" + hashlib.sha256(canonical.encode()).hexdigest()[:32]


_apps_lock = threading.Lock()


def _app(info: dict[str, Any]) -> firebase_admin.App:
    """The firebase-admin app for this key, made once per process and reused (it caches the
    OAuth access token and the HTTP connections). A rotated key makes a new app."""
    name = _name(info)
    with _apps_lock:
        try:
            return firebase_admin.get_app(name)
        except ValueError:
            pass
        app = firebase_admin.initialize_app(
            _certificate(info), {"httpTimeout": settings.FCM_TIMEOUT_SECONDS}, name=name
        )
        try:
            _route_fcm(app)
        except Exception:
            firebase_admin.delete_app(app)
            raise
        return app


class _FcmTransport(requests.adapters.HTTPAdapter):
    """Sends what the SDK addresses to Google's FCM host to FCM_API_BASE instead, when that is
    set; read per request, so the setting applies at call time."""

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        base = (settings.FCM_API_BASE or "").rstrip("/")
        if base and request.url and request.url.startswith(GOOGLE_FCM_ORIGIN + "/"):
            request.url = base + request.url[len(GOOGLE_FCM_ORIGIN) :]
            # The session picked proxies (and NO_PROXY exemptions) for Google's host.
            proxies = requests.utils.get_environ_proxies(request.url) if proxies else proxies
        return super().send(
            request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
        )


def _route_fcm(app: firebase_admin.App) -> None:
    """firebase-admin hard-codes https://fcm.googleapis.com and has no option to change it.
    Of the two ways in, rewriting the messaging service's private `_fcm_url` before each send
    (shared state, racy across threads, one URL of several) or mounting a `requests` transport
    adapter on its HTTP session, the adapter is the narrower: mounting is requests' public
    extension point, the adapter reads FCM_API_BASE per request and covers every
    fcm.googleapis.com URL the SDK builds, and only reaching the session uses private
    names — so an SDK upgrade that renames them fails here, loudly, rather than sending
    sandbox pushes to Google. It also carries our retry policy (FCM_RETRY). Only the
    synchronous client is covered: we do not use the SDK's async sends."""
    service = messaging._get_messaging_service(app)
    session = service._client.session
    session.mount(
        GOOGLE_FCM_ORIGIN,
        _FcmTransport(pool_connections=10, pool_maxsize=100, max_retries=FCM_RETRY),
    )


# ---------------------------------------------------------------------------------------------
# Pushes


def push_send(
    *,
    credentials_json: str | None,
    token: str,
    data: dict[str, str],
    high_priority: bool = False,
    ttl_seconds: int = 3600,
    notification: dict | None = None,
    collapse_key: str | None = None,
) -> PushResult:
    """Push `data` (and, if given, a visible `notification` {title, body, image}) to one
    device through the Firebase project of `credentials_json` (Callrix's default when None or
    empty). FCM and credential failures become a PushResult, never an exception; bad
    arguments (non-string data, a TTL over four weeks) are programming errors and raise
    ValueError."""
    message = _message(
        token=token,
        data=data,
        high_priority=high_priority,
        ttl_seconds=ttl_seconds,
        notification=notification,
        collapse_key=collapse_key,
    )
    if not token:
        return PushResult("invalid", error="The device has no push token.")
    try:
        raw = credentials_json or _default_credentials_json()
        if not raw:
            return _failed(
                "No Firebase credentials: the licensee has none and FCM_DEFAULT_CREDENTIALS "
                "is not set."
            )
        app = _app(_parse(raw))
    except InvalidFirebaseCredentials as error:
        return _failed(error.detail)
    try:
        message_id = messaging.send(message, app=app)
    except messaging.UnregisteredError as error:
        return PushResult("unregistered", error=str(error))
    except messaging.SenderIdMismatchError as error:  # a token of another Firebase project
        return PushResult("invalid", error=str(error))
    except exceptions.InvalidArgumentError as error:
        if _names_the_device(error):
            return PushResult("invalid", error=str(error))
        # The message itself was refused (a reserved data key, too big): the token is fine,
        # and the caller must not forget the device over our mistake.
        return _failed(f"FCM refused the message: {error}", project_id=app.project_id)
    except (
        exceptions.FirebaseError,
        google.auth.exceptions.GoogleAuthError,
        requests.RequestException,
    ) as error:
        return _failed(f"{type(error).__name__}: {error}", project_id=app.project_id)
    return PushResult("sent", message_id=message_id)


def _names_the_device(error: exceptions.InvalidArgumentError) -> bool:
    """FCM answers INVALID_ARGUMENT both for a bad device token and for a bad message. It is
    the token when FCM says so in words or in a field violation on the message's target."""
    if "registration token" in str(error).lower():
        return True
    try:
        details = error.http_response.json()["error"]["details"]
        fields = {
            violation.get("field")
            for detail in details
            for violation in detail.get("fieldViolations", [])
        }
    except (AttributeError, KeyError, TypeError, ValueError):
        return False
    return bool(fields & {"message.token", "message.fid"})


def _failed(error: str, project_id: str | None = None) -> PushResult:
    logger.warning("FCM push failed (project %s): %s", project_id or "-", error)
    return PushResult("failed", error=error)


def _message(
    *,
    token: str,
    data: dict[str, str],
    high_priority: bool,
    ttl_seconds: int,
    notification: dict | None,
    collapse_key: str | None,
) -> messaging.Message:
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError("Push data keys and values must be strings.")
    if not 0 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl_seconds must be between 0 and {MAX_TTL_SECONDS}.")
    if collapse_key is not None and len(collapse_key.encode()) > MAX_COLLAPSE_KEY_BYTES:
        raise ValueError(f"collapse_key must be at most {MAX_COLLAPSE_KEY_BYTES} bytes.")
    # APNs takes an absolute expiry; 0 means "deliver now or never".
    expiration = str(int(time.time()) + ttl_seconds) if ttl_seconds else "0"
    if notification:
        # Something to show: an alert push, which APNs delivers at once at priority 10.
        headers = {"apns-push-type": "alert", "apns-priority": "10" if high_priority else "5"}
        payload = None
    else:
        # Data only: on iOS that is a background push, which Apple requires at priority 5
        # (10 is an error) and delivers at its discretion. So a data-only push cannot ring an
        # iPhone promptly whatever `high_priority` says: that needs a notification, or PushKit
        # through a direct APNs client, which FCM cannot send. Android honours `high`.
        headers = {"apns-push-type": "background", "apns-priority": "5"}
        payload = messaging.APNSPayload(aps=messaging.Aps(content_available=True))
    headers["apns-expiration"] = expiration
    if collapse_key:
        headers["apns-collapse-id"] = collapse_key
    # FCM now prefers `fid` (the Firebase Installation ID) as the device target, and
    # firebase-admin 7.7 warns that `token` is deprecated; registration tokens, which our apps
    # register, are still accepted as `token`. Moving to FIDs starts in the apps (Firebase
    # says never to mix both APIs on one device), then changes this one line.
    return messaging.Message(
        token=token,
        data=dict(data),
        notification=messaging.Notification(**notification) if notification else None,
        android=messaging.AndroidConfig(
            priority="high" if high_priority else "normal",
            ttl=timedelta(seconds=ttl_seconds),
            collapse_key=collapse_key,
        ),
        apns=messaging.APNSConfig(headers=headers, payload=payload),
    )
