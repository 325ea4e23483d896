"""The service accounts the sandbox issued, the access tokens and messages, and the token
states devices gave, held under one lock and (all but the access tokens), given a state
file, kept across restarts."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sandboxes._state_file import state_read, state_write


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


class FcmState:
    """What the sandbox holds: its address, service accounts, access tokens and grants,
    accepted messages, token states and pending failures. The concerns (OAuth, messaging,
    control) build on it as mixins of `FcmSandbox`."""

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

    def _save(self) -> None:
        if self._state_file is None:
            return
        state = {
            "accounts": [asdict(account) for account in self._accounts.values()],
            "messages": self._messages,
            "unregistered": sorted(self._unregistered),
            "invalid": sorted(self._invalid),
        }
        state_write(self._state_file, state)

    def _load(self) -> None:
        # Access tokens are not kept: after a restart google-auth meets a 401 and fetches a
        # new one, as it would from Google.
        state = state_read(self._state_file)
        if state is None:
            return
        self._accounts = {a["client_email"]: ServiceAccount(**a) for a in state["accounts"]}
        self._messages = state["messages"]
        self._unregistered = set(state["unregistered"])
        self._invalid = set(state["invalid"])
