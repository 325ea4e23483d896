"""The fake Stripe, put together: its state and webhooks, Stripe's API (payments, Connect,
billing) and the sandbox's control routes, as one WSGI application."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from sandboxes._server import DeliveryQueue
from sandboxes._wsgi import route
from sandboxes.stripe_sandbox.api import Api, ApiRoute
from sandboxes.stripe_sandbox.calls import Request, error_response
from sandboxes.stripe_sandbox.control import Control
from sandboxes.stripe_sandbox.errors import StripeApiError

logger = logging.getLogger(__name__)


class StripeSandbox(Api, Control):
    """The fake Stripe: a WSGI application holding every account's objects in memory."""

    def __init__(self, state_file: str | os.PathLike[str] | None = None):
        super().__init__(state_file)
        self._deliveries_out = DeliveryQueue(
            self._deliver, thread_name="stripe-sandbox-webhooks", label="Stripe sandbox"
        )
        self._api_routes = self._build_api_routes()
        self._control_routes = self._build_control_routes()
        self._load()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        request = Request.from_environ(environ)
        try:
            if request.path.startswith("/_sandbox/"):
                response = self._handle_control(request)
            else:
                response = self._handle_api(request)
        except StripeApiError as error:
            response = error_response(error)
        except Exception:
            logger.exception("Stripe sandbox failed on %s %s", request.method, request.path)
            response = error_response(
                StripeApiError(500, "The Stripe sandbox failed.", error_type="api_error")
            )
        return response.send(start_response)

    # Stripe's endpoints, each run under the lock by `_handle_api`.

    def _build_api_routes(self) -> list[ApiRoute]:
        item = r"(?P<object_id>[A-Za-z0-9_]+)"
        return [
            route("GET", r"/v1/account", self._api_account_retrieve),
            route("GET", r"/v1/balance", self._api_balance_retrieve),
            route("POST", r"/v1/payment_intents", self._api_payment_intent_create),
            route("POST", rf"/v1/payment_intents/{item}/cancel", self._api_payment_intent_cancel),
            route("POST", r"/v1/refunds", self._api_refund_create),
            route("POST", r"/v1/accounts", self._api_connected_account_create),
            route("POST", r"/v1/account_links", self._api_account_link_create),
            route("POST", r"/v1/transfers", self._api_transfer_create),
            route("POST", rf"/v1/transfers/{item}/reversals", self._api_transfer_reverse),
            *self._billing_api_routes(),
            route("GET", rf"/v1/(?P<collection>[a-z_]+)/{item}", self._api_retrieve),
            route("GET", r"/v1/(?P<collection>[a-z_]+)", self._api_list),
        ]

    def _billing_api_routes(self) -> list[ApiRoute]:
        item = r"(?P<object_id>[A-Za-z0-9_]+)"
        return [
            route("POST", r"/v1/customers", self._api_customer_create),
            route("POST", r"/v1/prices", self._api_price_create),
            route("GET", r"/v1/prices", self._api_price_list),
            route("POST", r"/v1/subscriptions", self._api_subscription_create),
            route("POST", rf"/v1/subscriptions/{item}", self._api_subscription_update),
            route("DELETE", rf"/v1/subscriptions/{item}", self._api_subscription_cancel),
            route("POST", r"/v1/invoiceitems", self._api_invoice_item_create),
            route("POST", r"/v1/subscription_items", self._api_subscription_item_create),
            route("POST", rf"/v1/subscription_items/{item}", self._api_subscription_item_update),
            route("POST", r"/v1/billing/meters", self._api_meter_create),
            route("GET", r"/v1/billing/meters", self._api_meter_list),
            route("GET", rf"/v1/billing/meters/{item}", self._api_meter_retrieve),
            route("POST", r"/v1/billing/meter_events", self._api_meter_event_create),
        ]
