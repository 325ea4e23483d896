"""What every Stripe object shares: its id, its creation time, the API version that shaped
it, and the list it comes in."""

from __future__ import annotations

import secrets
import string
import time
from typing import Any

# The version the installed SDK (stripe 16) pins; events say which version shaped them.
API_VERSION = "2026-10-28.endive"

_ALPHABET = string.ascii_letters + string.digits


def random_token(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_id(prefix: str, length: int = 24) -> str:
    return f"{prefix}_{random_token(length)}"


def unix_time() -> int:
    return int(time.time())


def new_object(prefix: str, object_type: str) -> dict[str, Any]:
    return {"id": new_id(prefix), "object": object_type, "created": unix_time(), "livemode": False}


def empty_list(url: str) -> dict[str, Any]:
    return {"object": "list", "data": [], "has_more": False, "total_count": 0, "url": url}
