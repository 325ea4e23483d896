"""Stripe Connect events reach payments, but the app that owns advisors' accounts and the
transfers that pay them (payouts) acts on them: it registers its handlers here, so payments
never imports payouts.

Two kinds, as Stripe sends them: events of a connected account (an advisor's
`account.updated`, …) arrive at the Connect endpoint with the account's id in the event's
top-level `account`; events of the platform's own Connect objects (`transfer.reversed`) arrive
at the account endpoint like any other of the licensee's events."""

from __future__ import annotations

from collections.abc import Callable

from tenant_apps.payments.stripe_gateway import StripeJson

# (the event's object, the whole event payload) -> what was done, for the event log
ConnectEventHandler = Callable[[StripeJson, StripeJson], str]
_connected_account: dict[str, ConnectEventHandler] = {}
_platform: dict[str, ConnectEventHandler] = {}


def connected_account_handler_register(kind: str, handler: ConnectEventHandler) -> None:
    """For events from the Connect endpoint (the payload's `account` names the account)."""
    _connected_account[kind] = handler


def connected_account_handler(kind: str) -> ConnectEventHandler | None:
    return _connected_account.get(kind)


def platform_event_handler_register(kind: str, handler: ConnectEventHandler) -> None:
    """For events of the licensee's own account about its Connect objects (transfers)."""
    _platform[kind] = handler


def platform_event_handler(kind: str) -> ConnectEventHandler | None:
    return _platform.get(kind)


def connected_account_event_types() -> list[str]:
    return sorted(_connected_account)


def platform_event_types() -> list[str]:
    return sorted(_platform)
