"""Stripe Connect events (advisors' Express accounts and the transfers that pay them) arrive
with the licensee's other Stripe events; the app that owns them (payouts) registers its
handler here, so payments never imports payouts."""

from __future__ import annotations

from collections.abc import Callable

from tenant_apps.payments.stripe_gateway import StripeJson

# (the event's object, the whole event payload) -> what was done, for the event log
ConnectEventHandler = Callable[[StripeJson, StripeJson], str]
_handlers: dict[str, ConnectEventHandler] = {}


def connect_event_handler_register(kind: str, handler: ConnectEventHandler) -> None:
    _handlers[kind] = handler


def connect_event_handler(kind: str) -> ConnectEventHandler | None:
    return _handlers.get(kind)
