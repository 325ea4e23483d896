"""A local, stateful fake of the Stripe HTTP API for the tests and the offline demo.

The official `stripe` SDK works against it when pointed at its base URL, and it sends webhooks
signed with Stripe's real scheme (`Stripe-Signature: t=…,v1=HMAC-SHA256`). Only the standard
library is used: the product imports this package at run time with its base dependencies only.

    sandbox = StripeSandbox()
    server, base_url = serve(sandbox=sandbox)
    creds = sandbox.create_account(webhook_url="http://127.0.0.1:8000/webhooks/stripe")
    client = stripe.StripeClient(creds["secret_key"], base_addresses={"api": base_url})

Routes under `/_sandbox/` are not Stripe's: they play the customer's and Stripe's part
(a card payment succeeds, a charge is disputed, an advisor finishes Connect onboarding).

One module a concern: `api` (keys, idempotency, the generic routes), `payments`, `connect`,
`catalog`, `invoices` and `subscriptions` (Stripe's objects and endpoints), `webhooks`
(events, signing, delivery), `control` (the `/_sandbox/` routes), `state`, and `sandbox`,
which puts them together; `server` runs it.
"""

from sandboxes.stripe_sandbox.accounts import SandboxAccount
from sandboxes.stripe_sandbox.errors import StripeApiError
from sandboxes.stripe_sandbox.objects import API_VERSION
from sandboxes.stripe_sandbox.params import Params, parse_form
from sandboxes.stripe_sandbox.sandbox import StripeSandbox
from sandboxes.stripe_sandbox.server import main, serve
from sandboxes.stripe_sandbox.webhooks import post_webhook, sign

__all__ = [
    "API_VERSION",
    "Params",
    "SandboxAccount",
    "StripeApiError",
    "StripeSandbox",
    "main",
    "parse_form",
    "post_webhook",
    "serve",
    "sign",
]
