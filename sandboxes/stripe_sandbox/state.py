"""Every account's objects, balances and delivery log, held in memory under one lock and,
given a state file, kept across restarts."""

from __future__ import annotations

import copy
import os
import secrets
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sandboxes._state_file import state_read, state_write
from sandboxes.stripe_sandbox.accounts import SandboxAccount
from sandboxes.stripe_sandbox.calls import CallContext
from sandboxes.stripe_sandbox.errors import missing


class StripeState:
    """What the sandbox holds: the platform accounts, every object by id with the account that
    owns it, balances, onboarding links, idempotency keys and webhook deliveries. The
    concerns (payments, Connect, billing, …) build on it as mixins of `StripeSandbox`."""

    def __init__(self, state_file: str | os.PathLike[str] | None = None):
        self.deliver_synchronously = False
        self._state_file = Path(state_file) if state_file else None
        # One lock for all state: every API call and control action runs whole under it, and
        # webhooks are sent only after it is released (a receiver may call back into us).
        self._lock = threading.Lock()
        self._accounts: dict[str, SandboxAccount] = {}
        self._objects: dict[str, dict[str, Any]] = {}
        self._owners: dict[str, str] = {}  # object id -> platform account id
        self._balances: dict[str, dict[str, int]] = {}  # account id -> currency -> minor units
        self._onboarding: dict[str, dict[str, Any]] = {}  # connected account -> latest link
        self._idempotency: dict[str, dict[str, Any]] = {}
        self._deliveries: dict[str, list[dict[str, Any]]] = {}
        self._outbox: list[str] = []

    def _store(self, account_id: str, obj: dict[str, Any]) -> dict[str, Any]:
        self._objects[obj["id"]] = obj
        self._owners[obj["id"]] = account_id
        return obj

    def _owned(
        self, account_id: str, object_id: str, object_type: str, param: str = "id"
    ) -> dict[str, Any]:
        """One of the caller's own objects; another account's is as missing as a made-up id."""
        obj = self._objects.get(object_id)
        if obj is None or obj["object"] != object_type or self._owners[object_id] != account_id:
            raise missing(object_type, object_id, param)
        return obj

    def _find(self, object_id: str, object_type: str) -> tuple[str, dict[str, Any]]:
        obj = self._objects.get(object_id)
        if obj is None or obj["object"] != object_type:
            raise missing(object_type, object_id)
        return self._owners[object_id], obj

    def _platform(self, account_id: str) -> SandboxAccount:
        if account_id not in self._accounts:
            raise missing("account", account_id, "account")
        return self._accounts[account_id]

    def _credit(self, account_id: str, currency: str, amount: int) -> None:
        balances = self._balances.setdefault(account_id, {})
        balances[currency] = balances.get(currency, 0) + amount

    def _expanded(
        self, call: CallContext, obj: dict[str, Any], fields: list[str]
    ) -> dict[str, Any]:
        """Stripe's `expand[]` for top-level ids of the caller's own objects."""
        result = copy.deepcopy(obj)
        for name in fields:
            value = result.get(name)
            if isinstance(value, str) and self._owners.get(value) == call.account.id:
                result[name] = copy.deepcopy(self._objects[value])
        return result

    def _save(self) -> None:
        if self._state_file is None:
            return
        state = {
            "accounts": [asdict(account) for account in self._accounts.values()],
            "objects": self._objects,
            "owners": self._owners,
            "balances": self._balances,
            "onboarding": self._onboarding,
            "idempotency": self._idempotency,
            "deliveries": self._deliveries,
        }
        state_write(self._state_file, state)

    def _load(self) -> None:
        state = state_read(self._state_file)
        if state is None:
            return
        self._accounts = {a["id"]: SandboxAccount(**a) for a in state["accounts"]}
        for account in self._accounts.values():  # a state file from before Connect endpoints
            account.connect_webhook_secret = account.connect_webhook_secret or (
                "whsec_" + secrets.token_hex(16)
            )
        self._objects = state["objects"]
        self._owners = state["owners"]
        self._balances = state["balances"]
        self._onboarding = state["onboarding"]
        self._idempotency = state["idempotency"]
        self._deliveries = state["deliveries"]
