"""The sandbox's own routes under `/_sandbox/`, not Stripe's: they play the customer's and
Stripe's part (a card payment succeeds, a charge is disputed, an advisor finishes Connect
onboarding, an invoice is paid) and show the events sent. Also the platform accounts."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from sandboxes._wsgi import Response, ResponseRoute, find_route, json_response, route
from sandboxes.stripe_sandbox.accounts import SandboxAccount
from sandboxes.stripe_sandbox.calls import Request
from sandboxes.stripe_sandbox.connect import Connect
from sandboxes.stripe_sandbox.errors import StripeApiError
from sandboxes.stripe_sandbox.objects import new_id
from sandboxes.stripe_sandbox.params import Params
from sandboxes.stripe_sandbox.payments import Payments
from sandboxes.stripe_sandbox.subscriptions import Subscriptions

# A plain, readable page (the sandbox's own pages; Stripe's are its own design).
_STYLE = (
    "<style>body{margin:0;background:#f6f9fc;font:16px/1.5 system-ui,sans-serif;color:#1a1f36}"
    "main{max-width:28rem;margin:3rem auto;background:#fff;border-radius:.5rem;padding:1.5rem;"
    "box-shadow:0 2px 8px rgba(0,0,0,.08)}h1{font-size:1.25rem}.amount{font-size:2rem;"
    "font-weight:700;margin:.5rem 0}form{display:inline-block;margin:.5rem .5rem 0 0}"
    "button{font:inherit;border:0;border-radius:.3rem;padding:.6rem 1rem;cursor:pointer;"
    "background:#635bff;color:#fff}.hint{color:#4f566b}table.lines{width:100%;"
    "border-collapse:collapse}.lines td{padding:.25rem 0;border-bottom:1px solid #e3e8ee}"
    ".lines .num{text-align:right;white-space:nowrap}</style>"
)


def _onboarding_page(connected: dict[str, Any]) -> str:
    account_id = html.escape(connected["id"])
    email = html.escape(connected.get("email") or "")
    state = "complete" if connected["payouts_enabled"] else "incomplete"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>{_STYLE}"
        "<title>Stripe sandbox onboarding</title></head><body><main>"
        f"<h1>Connect onboarding (sandbox)</h1><p>Account {account_id} {email}: {state}.</p>"
        f"<form method='post' action='/_sandbox/onboarding/{account_id}/complete?redirect=1'>"
        "<button type='submit'>Complete onboarding</button></form></main></body></html>"
    )


# Stripe's zero- and three-decimal currencies; every other one has two decimals.
_ZERO_DECIMAL = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
    "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
}  # fmt: skip
_THREE_DECIMAL = {"bhd", "jod", "kwd", "omr", "tnd"}


def _amount_text(amount: int, currency: str) -> str:
    digits = 0 if currency in _ZERO_DECIMAL else 3 if currency in _THREE_DECIMAL else 2
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 10**digits)
    shown = f"{whole}.{part:0{digits}d}" if digits else str(whole)
    return f"{sign}{shown} {currency.upper()}"


def _invoice_lines(invoice: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(line.get('description') or '')}</td>"
        f"<td class='num'>{html.escape(_amount_text(line['amount'], line['currency']))}</td></tr>"
        for line in invoice["lines"]["data"]
    )
    return f"<table class='lines'>{rows}</table>"


def _invoice_page(invoice: dict[str, Any]) -> str:
    invoice_id = html.escape(invoice["id"])
    number = html.escape(invoice["number"] or invoice["id"])
    amount = _amount_text(invoice["amount_due"], invoice["currency"])
    forms = "".join(
        f"<form method='post' action='/_sandbox/invoices/{invoice_id}/{action}?redirect=1'>"
        f"<button type='submit'>{label}</button></form>"
        for action, label in (("pay", "Pay"), ("fail", "Decline the card"))
        if invoice["status"] == "open"
    )
    # Stripe's hosted invoice page has no link back to the merchant either; the merchant's
    # page opened it in a new tab and is still open behind it.
    after = (
        "<p class='hint'>This invoice is settled. You can close this tab and return to the "
        "page you came from.</p>"
        if invoice["status"] != "open"
        else ""
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>{_STYLE}"
        "<title>Stripe sandbox invoice</title></head><body><main>"
        f"<h1>Invoice {number} (sandbox)</h1><p class='amount'>{html.escape(amount)}</p>"
        f"{_invoice_lines(invoice)}"
        f"<p>Status: <strong>{html.escape(invoice['status'])}</strong></p>{forms}{after}"
        "</main></body></html>"
    )


class Control(Payments, Connect, Subscriptions):
    """The platform accounts, and the `/_sandbox/` routes over the concerns' Python methods."""

    _control_routes: list[ResponseRoute]

    def _build_control_routes(self) -> list[ResponseRoute]:
        item = r"(?P<object_id>[A-Za-z0-9_]+)"
        prefix = "/_sandbox"
        return [
            route("POST", rf"{prefix}/accounts", self._ctl_account_create),
            route("POST", rf"{prefix}/accounts/{item}", self._ctl_account_update),
            route("POST", rf"{prefix}/payment_intents/{item}/succeed", self._ctl_succeed),
            route("POST", rf"{prefix}/payment_intents/{item}/fail", self._ctl_fail),
            route("POST", rf"{prefix}/charges/{item}/dispute", self._ctl_dispute),
            route("POST", rf"{prefix}/disputes/{item}/close", self._ctl_dispute_close),
            route("GET", rf"{prefix}/onboarding/{item}", self._ctl_onboarding_page),
            route("POST", rf"{prefix}/onboarding/{item}/complete", self._ctl_onboarding_done),
            route("GET", rf"{prefix}/events", self._ctl_events),
            route("POST", rf"{prefix}/events/{item}/resend", self._ctl_event_resend),
            *self._billing_control_routes(),
        ]

    def _handle_control(self, request: Request) -> Response:
        found = find_route(self._control_routes, request.method, request.path.rstrip("/"))
        if found is None:
            raise StripeApiError(
                404, f"Unrecognized request URL ({request.method}: {request.path})."
            )
        handler, groups = found
        return handler(request, **groups)

    def create_account(
        self,
        webhook_url: str | None = None,
        webhook_host: str | None = None,
        display_name: str = "",
        email: str = "",
        connect_webhook_url: str | None = None,
        connect_webhook_host: str | None = None,
    ) -> dict[str, Any]:
        """A new platform account; returns `account_id`, `secret_key`, `publishable_key`,
        `webhook_secret`, `connect_webhook_secret` (and the webhook settings)."""
        account_id = new_id("acct", 16)
        account = SandboxAccount(
            id=account_id,
            secret_key=new_id("sk_test_sandbox"),
            publishable_key=new_id("pk_test_sandbox"),
            webhook_secret=new_id("whsec", 32),
            webhook_url=webhook_url,
            webhook_host=webhook_host,
            connect_webhook_secret=new_id("whsec", 32),
            connect_webhook_url=connect_webhook_url,
            connect_webhook_host=connect_webhook_host,
            display_name=display_name,
            email=email or f"{account_id.lower()}@sandbox.invalid",
        )
        with self._transaction():
            self._accounts[account_id] = account
            return account.credentials()

    def update_account(
        self,
        account_id: str,
        *,
        webhook_url: str | None = None,
        webhook_host: str | None = None,
        connect_webhook_url: str | None = None,
        connect_webhook_host: str | None = None,
    ) -> dict[str, Any]:
        """Point an account's webhooks elsewhere (a demo restarted on another port)."""
        with self._transaction():
            account = self._platform(account_id)
            account.webhook_url = webhook_url
            account.webhook_host = webhook_host
            account.connect_webhook_url = connect_webhook_url
            account.connect_webhook_host = connect_webhook_host
            return account.credentials()

    def _ctl_account_create(self, request: Request) -> Response:
        data = request.json()
        credentials = self.create_account(
            webhook_url=data.get("webhook_url"),
            webhook_host=data.get("webhook_host"),
            display_name=data.get("display_name") or "",
            email=data.get("email") or "",
            connect_webhook_url=data.get("connect_webhook_url"),
            connect_webhook_host=data.get("connect_webhook_host"),
        )
        return json_response(200, credentials)

    def _ctl_account_update(self, request: Request, object_id: str) -> Response:
        data = request.json()
        return json_response(
            200,
            self.update_account(
                object_id,
                webhook_url=data.get("webhook_url"),
                webhook_host=data.get("webhook_host"),
                connect_webhook_url=data.get("connect_webhook_url"),
                connect_webhook_host=data.get("connect_webhook_host"),
            ),
        )

    def _ctl_succeed(self, request: Request, object_id: str) -> Response:
        return json_response(200, self.succeed_payment_intent(object_id))

    def _ctl_fail(self, request: Request, object_id: str) -> Response:
        data = request.json()
        options = {key: data[key] for key in ("decline_code", "message") if data.get(key)}
        return json_response(200, self.fail_payment_intent(object_id, **options))

    def _ctl_dispute(self, request: Request, object_id: str) -> Response:
        params = Params(request.json(), ("amount", "reason"))
        dispute = self.dispute_charge(
            object_id,
            amount=params.integer("amount"),
            reason=params.text("reason") or "fraudulent",
        )
        return json_response(200, dispute)

    def _ctl_dispute_close(self, request: Request, object_id: str) -> Response:
        return json_response(200, self.close_dispute(object_id, request.json().get("status", "")))

    def _ctl_onboarding_page(self, request: Request, object_id: str) -> Response:
        with self._lock:
            _, connected = self._find(object_id, "account")
        return Response(
            200, _onboarding_page(connected).encode(), content_type="text/html; charset=utf-8"
        )

    def _ctl_onboarding_done(self, request: Request, object_id: str) -> Response:
        connected = self.complete_onboarding(object_id)
        with self._lock:
            return_url = self._onboarding.get(object_id, {}).get("return_url")
        # The HTML form sends the browser back to the product, as Stripe's hosted flow does.
        if "redirect=1" in request.query and return_url:
            return Response(303, b"", content_type="text/plain", headers=[("Location", return_url)])
        return json_response(200, connected)

    def _ctl_events(self, request: Request) -> Response:
        query = dict(parse_qsl(request.query))
        if not query.get("account"):
            raise StripeApiError(400, "Missing required param: account.", param="account")
        events = self.events(query["account"], query.get("type"))
        deliveries = {event["id"]: self.deliveries(event["id"]) for event in events}
        return json_response(
            200,
            {
                "object": "list",
                "data": events,
                "has_more": False,
                "url": "/_sandbox/events",
                "deliveries": deliveries,
            },
        )

    def _ctl_event_resend(self, request: Request, object_id: str) -> Response:
        return json_response(200, self.resend_event(object_id))

    def _billing_control_routes(self) -> list[ResponseRoute]:
        item = r"(?P<object_id>[A-Za-z0-9_]+)"
        prefix = "/_sandbox"
        return [
            route("GET", rf"{prefix}/invoices/{item}", self._ctl_invoice_page),
            route("POST", rf"{prefix}/invoices/{item}/pay", self._ctl_invoice_pay),
            route("POST", rf"{prefix}/invoices/{item}/fail", self._ctl_invoice_fail),
            route("POST", rf"{prefix}/subscriptions/{item}/advance", self._ctl_advance),
            route("POST", rf"{prefix}/subscriptions/{item}/expire", self._ctl_expire),
        ]

    def _ctl_invoice_page(self, request: Request, object_id: str) -> Response:
        with self._lock:
            _, invoice = self._find(object_id, "invoice")
            page = _invoice_page(invoice)
        return Response(200, page.encode(), content_type="text/html; charset=utf-8")

    def _ctl_invoice_pay(self, request: Request, object_id: str) -> Response:
        return self._ctl_invoice_outcome(request, object_id, self.pay_invoice)

    def _ctl_invoice_fail(self, request: Request, object_id: str) -> Response:
        return self._ctl_invoice_outcome(request, object_id, self.fail_invoice)

    @staticmethod
    def _ctl_invoice_outcome(
        request: Request, object_id: str, play: Callable[[str], dict[str, Any]]
    ) -> Response:
        invoice = play(object_id)
        # The HTML form goes back to the hosted invoice page, as Stripe's hosted page does.
        if "redirect=1" in request.query:
            location = f"/_sandbox/invoices/{object_id}"
            return Response(303, b"", content_type="text/plain", headers=[("Location", location)])
        return json_response(200, invoice)

    def _ctl_advance(self, request: Request, object_id: str) -> Response:
        outcome = str(request.json().get("outcome") or "open")
        return json_response(200, self.advance_subscription(object_id, outcome=outcome))

    def _ctl_expire(self, request: Request, object_id: str) -> Response:
        return json_response(200, self.expire_subscription(object_id))
