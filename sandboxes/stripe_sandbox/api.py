"""Stripe's HTTP API surface: the API key, idempotency keys, `Stripe-Account`, and the
generic retrieve and list routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandboxes._wsgi import Response, Route, find_route, json_response
from sandboxes.stripe_sandbox.calls import CallContext, Request, bearer_key, mask_key
from sandboxes.stripe_sandbox.errors import StripeApiError
from sandboxes.stripe_sandbox.objects import API_VERSION, new_id, unix_time
from sandboxes.stripe_sandbox.params import Params, item_fields, parse_form
from sandboxes.stripe_sandbox.webhooks import Webhooks

# Stripe's endpoints answer the object (or list) to send back as JSON.
ApiRoute = Route[Callable[..., dict[str, Any]]]
# URL collection -> the `object` value of what it holds, for the generic retrieve/list routes.
COLLECTIONS = {
    "payment_intents": "payment_intent",
    "charges": "charge",
    "refunds": "refund",
    "disputes": "dispute",
    "transfers": "transfer",
    "accounts": "account",
    "events": "event",
    # Billing, as Callrix's own account uses it to bill licensees
    "customers": "customer",
    "products": "product",
    "prices": "price",
    "subscriptions": "subscription",
    "invoices": "invoice",
    "invoiceitems": "invoiceitem",
}
IDEMPOTENCY_KEY_TTL = 24 * 3600
LIST_FILTERS = {
    "payment_intents": ("customer",),
    "charges": ("payment_intent",),
    "refunds": ("payment_intent", "charge"),
    "disputes": ("charge", "payment_intent"),
    "transfers": ("destination", "transfer_group"),
    "accounts": (),
    "events": ("type",),
    "customers": ("email",),
    "products": (),
    "prices": ("product",),
    "subscriptions": ("customer", "status"),
    "invoices": ("customer", "status"),
    "invoiceitems": ("customer", "invoice"),
}

# Stripe-Account (acting as a connected account) is honoured only where the sandbox has the
# connected account's data to answer with.
CONNECTED_ACCOUNT_PATHS = ("/v1/account", "/v1/balance")


class Api(Webhooks):
    """Stripe's API: authenticates the call by its key, honours idempotency keys and
    `Stripe-Account`, and dispatches to the endpoint (`_api_routes`, which the sandbox
    builds)."""

    _api_routes: list[ApiRoute]

    def _handle_api(self, request: Request) -> Response:
        with self._transaction():
            call = self._authenticate(request)
            if call.method != "POST" or not call.idempotency_key:
                return self._dispatch(call)
            return self._dispatch_idempotently(call)

    def _authenticate(self, request: Request) -> CallContext:
        key = bearer_key(request.headers.get("authorization", ""))
        if not key:
            raise StripeApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
            )
        account = next((a for a in self._accounts.values() if a.secret_key == key), None)
        if account is None:
            raise StripeApiError(401, f"Invalid API Key provided: {mask_key(key)}")
        raw = request.query if request.method == "GET" else request.body.decode()
        return CallContext(
            account=account,
            method=request.method,
            path=request.path.rstrip("/") or "/",
            params=parse_form(raw),
            request_id=new_id("req", 14),
            idempotency_key=request.headers.get("idempotency-key") or None,
            stripe_account=request.headers.get("stripe-account") or None,
            base_url=request.base_url,
        )

    def _dispatch_idempotently(self, call: CallContext) -> Response:
        """Stripe replays the first response to a reused key, and refuses the key when the
        parameters differ."""
        slot = f"{call.account.id}:{call.idempotency_key}"
        saved = self._idempotency.get(slot)
        if saved is not None and unix_time() - saved.get("created", 0) >= IDEMPOTENCY_KEY_TTL:
            saved = None  # Stripe forgets a key once it is 24 hours old
        if saved is None:
            response = self._dispatch(call)
            self._idempotency[slot] = {
                "fingerprint": call.fingerprint(),
                "status": response.status,
                "body": response.body.decode(),
                "request_id": call.request_id,
                "created": unix_time(),
            }
            return response
        if saved["fingerprint"] != call.fingerprint():
            raise StripeApiError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{call.idempotency_key}' "
                "if you meant to execute a different request.",
                error_type="idempotency_error",
            )
        headers = self._call_headers(call, saved["request_id"])
        headers.append(("Idempotent-Replayed", "true"))
        return Response(saved["status"], saved["body"].encode(), headers=headers)

    def _dispatch(self, call: CallContext) -> Response:
        headers = self._call_headers(call, call.request_id)
        try:
            handler, groups = self._api_handler(call)
            return json_response(200, handler(call, **groups), headers)
        except StripeApiError as error:
            return json_response(error.status, error.body(), headers)

    def _api_handler(self, call: CallContext) -> tuple[Callable[..., Any], dict]:
        found = find_route(self._api_routes, call.method, call.path)
        if found is None:
            raise StripeApiError(
                404,
                f"Unrecognized request URL ({call.method}: {call.path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
            )
        if call.stripe_account:
            self._check_stripe_account(call)
        return found

    def _check_stripe_account(self, call: CallContext) -> None:
        if call.stripe_account not in call.account.connected_accounts:
            raise StripeApiError(
                403,
                f"The provided key '{mask_key(call.account.secret_key)}' does not have access "
                f"to account '{call.stripe_account}' (or that account does not exist).",
            )
        if call.path not in CONNECTED_ACCOUNT_PATHS:
            raise StripeApiError(
                400, f"The Stripe sandbox does not support Stripe-Account on {call.path}."
            )

    @staticmethod
    def _call_headers(call: CallContext, request_id: str) -> list[tuple[str, str]]:
        headers = [("Request-Id", request_id), ("Stripe-Version", API_VERSION)]
        if call.idempotency_key and call.method == "POST":
            headers.append(("Idempotency-Key", call.idempotency_key))
        return headers

    def _api_retrieve(self, call: CallContext, collection: str, object_id: str) -> dict:
        params = Params(call.params)
        found = self._owned(call.account.id, object_id, self._collection_type(call, collection))
        return self._expanded(call, found, params.expand)

    def _api_list(self, call: CallContext, collection: str) -> dict[str, Any]:
        object_type = self._collection_type(call, collection)
        filters = LIST_FILTERS[collection]
        params = Params(call.params, ("limit", "starting_after", *filters))
        limit = min(params.integer("limit") or 10, 100)
        items = [
            obj
            for obj in reversed(self._objects.values())
            if obj["object"] == object_type
            and self._owners[obj["id"]] == call.account.id
            and all(obj.get(name) == params.data[name] for name in filters if name in params.data)
        ]
        after = params.text("starting_after")
        if after:
            ids = [obj["id"] for obj in items]
            items = items[ids.index(after) + 1 :] if after in ids else []
        page = [self._expanded(call, obj, item_fields(params.expand)) for obj in items[:limit]]
        return {
            "object": "list",
            "data": page,
            "has_more": len(items) > limit,
            "url": f"/v1/{collection}",
        }

    @staticmethod
    def _collection_type(call: CallContext, collection: str) -> str:
        if collection not in COLLECTIONS:
            raise StripeApiError(404, f"Unrecognized request URL ({call.method}: {call.path}).")
        return COLLECTIONS[collection]
