"""FCM's checks on a message before it accepts it (the parts of them the product can get
wrong), answered with the errors FCM and Google's front end answer."""

from __future__ import annotations

import json
import re
from typing import Any

from sandboxes.fcm_sandbox.errors import bad_json, invalid

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
_TOPIC = re.compile(r"[a-zA-Z0-9\-_.~%]{1,900}")
_DURATION = re.compile(r"(\d+)(\.\d{1,9})?s")
_ANALYTICS_LABEL = re.compile(r"[a-zA-Z0-9\-_.~%]{1,50}")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(name: str) -> str:
    # Google's JSON parser accepts a field's lowerCamelCase and its proto (snake_case) name.
    return _CAMEL.sub("_", name).lower()


def _fields(value: Any, where: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        at = f" at '{where}'" if where else ""
        raise bad_json(f"Invalid JSON payload received. Expected an object{at}.", where)
    fields: dict[str, Any] = {}
    for key, item in value.items():
        name = _snake(key)
        if name not in allowed:
            at = f" at '{where}'" if where else ""
            raise bad_json(
                f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.',
                where,
            )
        fields[name] = item
    return fields


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise bad_json(f"Invalid value at '{where}' (TYPE_STRING), {json.dumps(value)}", where)
    return value


def _string_map(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise bad_json(f"Invalid value at '{where}' (map), {json.dumps(value)}", where)
    for index, item in enumerate(value.values()):
        _string(item, f"{where}[{index}].value")
    return value


def _check_data(value: Any, where: str) -> dict[str, str]:
    data = _string_map(value, where)
    for key in data:
        lowered = key.lower()
        if lowered in RESERVED_DATA_KEYS or lowered.startswith(RESERVED_DATA_PREFIXES):
            raise invalid(f"Invalid data payload key: {key} is a reserved word.", where)
    return data


def _check_duration(value: Any, where: str) -> int:
    text = _string(value, where)
    found = _DURATION.fullmatch(text)
    if found is None:
        raise bad_json(
            f"Invalid value at '{where}' (type.googleapis.com/google.protobuf.Duration), "
            f"{json.dumps(text)}",
            where,
        )
    seconds = int(found.group(1))
    if seconds > MAX_TTL_SECONDS:
        raise invalid(f"TTL must not exceed {MAX_TTL_SECONDS}s (four weeks).", where)
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
            raise bad_json(
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
            raise bad_json(f"Invalid value at '{where}.{name}', not an object", f"{where}.{name}")


def _check_apns(value: Any, has_notification: bool) -> None:
    where = "message.apns"
    apns = _fields(value, where, ("headers", "payload", "fcm_options", "live_activity_token"))
    headers = {k.lower(): v for k, v in _string_map(apns.get("headers", {}), where).items()}
    payload = apns.get("payload", {})
    if not isinstance(payload, dict):
        raise bad_json(f"Invalid value at '{where}.payload', not an object", f"{where}.payload")
    aps = payload.get("aps", {})
    if not isinstance(aps, dict):
        raise invalid("apns.payload.aps must be an object.", f"{where}.payload")
    priority = headers.get("apns-priority")
    if priority is not None and priority not in APNS_PRIORITIES:
        raise invalid(f"Invalid apns-priority header: {priority}", f"{where}.headers")
    push_type = headers.get("apns-push-type")
    if push_type is not None and push_type not in APNS_PUSH_TYPES:
        raise invalid(f"Invalid apns-push-type header: {push_type}", f"{where}.headers")
    if push_type == "voip":
        # FCM cannot deliver PushKit pushes; the sandbox refuses them so nothing relies on it.
        raise invalid("VoIP (PushKit) pushes cannot be sent through FCM.", f"{where}.headers")
    expiration = headers.get("apns-expiration")
    if expiration is not None and not expiration.isdigit():
        raise invalid(f"Invalid apns-expiration header: {expiration}", f"{where}.headers")
    collapse_id = headers.get("apns-collapse-id")
    if collapse_id is not None and len(collapse_id.encode()) > 64:
        raise invalid("apns-collapse-id must be at most 64 bytes.", f"{where}.headers")
    if push_type == "background":
        _check_background_push(aps, priority, has_notification)


def _check_background_push(aps: dict[str, Any], priority: str | None, has_alert: bool) -> None:
    """Apple: a background push carries `content-available: 1` and nothing to show, and must
    be sent at priority 5 (10 is an error, and FCM sends 10 when the header is absent)."""
    where = "message.apns"
    if priority != "5":
        raise invalid("Background pushes must set apns-priority to 5.", f"{where}.headers")
    if aps.get("content-available") != 1:
        raise invalid("Background pushes must set aps content-available to 1.", f"{where}.payload")
    if has_alert or any(key in aps for key in ("alert", "badge", "sound")):
        raise invalid(
            "Background pushes must not carry an alert, badge or sound.", f"{where}.payload"
        )


def device(message: dict[str, Any]) -> str | None:
    """The device a message targets, by registration token or installation id."""
    return message.get("token") or message.get("fid")


def check_send_request(body: Any) -> tuple[dict[str, Any], bool]:
    """The message of a `messages:send` body and its `validate_only` flag, or FcmApiError."""
    request = _fields(body, "", ("message", "validate_only"))
    validate_only = request.get("validate_only", False)
    if not isinstance(validate_only, bool):
        raise bad_json(
            f"Invalid value at 'validate_only' (TYPE_BOOL), {json.dumps(validate_only)}",
            "validate_only",
        )
    where = "message"
    if "message" not in request:
        raise invalid("Message must be set.", where)
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
        raise invalid("Recipient of the message is not set.", where)
    if len(targets) > 1:
        raise bad_json(
            f"Invalid value at 'message' (oneof), oneof field 'target' is already set. "
            f"Cannot set '{targets[1]}'",
            where,
        )
    target = targets[0]
    value = _string(message[target], f"{where}.{target}")
    if target in ("token", "fid") and not value:
        raise invalid(
            "The registration token is not a valid FCM registration token", f"{where}.{target}"
        )
    if target == "topic" and not _TOPIC.fullmatch(value.removeprefix("/topics/")):
        raise invalid(f"Invalid topic name: {value}", f"{where}.topic")
    if target == "condition" and "in topics" not in value:
        raise invalid(f"Invalid condition expression: {value}", f"{where}.condition")
    if "data" in message:
        _check_data(message["data"], f"{where}.data")
    if "notification" in message:
        _check_notification(message["notification"], f"{where}.notification")
    if "android" in message:
        _check_android(message["android"])
    if "apns" in message:
        _check_apns(message["apns"], has_notification="notification" in message)
    if "webpush" in message and not isinstance(message["webpush"], dict):
        raise bad_json("Invalid value at 'message.webpush', not an object", f"{where}.webpush")
    if "fcm_options" in message:
        options = _fields(message["fcm_options"], f"{where}.fcm_options", ("analytics_label",))
        label = _string(options.get("analytics_label", "x"), f"{where}.fcm_options")
        if not _ANALYTICS_LABEL.fullmatch(label):
            raise invalid("Invalid analytics label.", f"{where}.fcm_options.analytics_label")
    size = len(json.dumps(message.get("data", {})).encode())
    size += len(json.dumps(message.get("notification", {})).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise invalid("Message is too big", where)
    return request["message"], validate_only
