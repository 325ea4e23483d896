"""An account's own view (`/v1/account`, `/v1/balance`, also as a connected account with
`Stripe-Account`) and Stripe Connect: connected accounts, their onboarding, transfers and
reversals."""

from __future__ import annotations

import copy
from typing import Any

from sandboxes.stripe_sandbox.accounts import platform_account_object, requirements
from sandboxes.stripe_sandbox.calls import CallContext
from sandboxes.stripe_sandbox.errors import StripeApiError
from sandboxes.stripe_sandbox.objects import empty_list, new_id, new_object, unix_time
from sandboxes.stripe_sandbox.params import Params
from sandboxes.stripe_sandbox.webhooks import Webhooks

ONBOARDING_LINK_TTL_SECONDS = 300
ONBOARDING_REQUIREMENTS = [
    "business_type",
    "external_account",
    "individual.first_name",
    "individual.last_name",
    "tos_acceptance.date",
    "tos_acceptance.ip",
]


def _connected_account_object(params: Params) -> dict[str, Any]:
    # Stripe wants either an account type or, in its newer API, a `controller` hash.
    needs_type = not params.mapping("controller")
    account_type = params.text(
        "type", required=needs_type, choices=("express", "standard", "custom")
    )
    requested = [
        name
        for name, wanted in params.mapping("capabilities").items()
        if isinstance(wanted, dict) and str(wanted.get("requested")).lower() == "true"
    ] or ["transfers"]
    email = params.text("email")
    return {
        **new_object("acct", "account"),
        "type": account_type or "express",
        "email": email,
        "country": (params.text("country") or "US").upper(),
        "default_currency": (params.text("default_currency") or "usd").lower(),
        "business_type": params.text("business_type"),
        "charges_enabled": False,
        "payouts_enabled": False,
        "details_submitted": False,
        "capabilities": {name: "inactive" for name in requested},
        "requirements": requirements(due=ONBOARDING_REQUIREMENTS),
        "future_requirements": requirements(due=[]),
        "external_accounts": empty_list("/v1/accounts/external_accounts"),
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "business_profile": params.mapping("business_profile") or {"name": None, "url": None},
        "settings": {"dashboard": {"display_name": email, "timezone": "Etc/UTC"}},
        "metadata": params.metadata(),
    }


class Connect(Webhooks):
    """An account's own view, connected accounts and their onboarding, transfers."""

    def _api_account_retrieve(self, call: CallContext) -> dict[str, Any]:
        Params(call.params)
        if call.stripe_account:
            return self._objects[call.stripe_account]
        return platform_account_object(call.account)

    def _api_balance_retrieve(self, call: CallContext) -> dict[str, Any]:
        Params(call.params)
        balances = self._balances.get(call.acting_account_id) or {"usd": 0}
        return {
            "object": "balance",
            "livemode": False,
            "available": [
                {"amount": amount, "currency": currency, "source_types": {"card": amount}}
                for currency, amount in sorted(balances.items())
            ],
            "pending": [
                {"amount": 0, "currency": currency, "source_types": {"card": 0}}
                for currency in sorted(balances)
            ],
        }

    def _api_connected_account_create(self, call: CallContext) -> dict[str, Any]:
        params = Params(
            call.params,
            (
                "type",
                "controller",
                "country",
                "email",
                "capabilities",
                "business_type",
                "business_profile",
                "default_currency",
                "metadata",
            ),
        )
        connected = self._store(call.account.id, _connected_account_object(params))
        connected["external_accounts"]["url"] = f"/v1/accounts/{connected['id']}/external_accounts"
        call.account.connected_accounts.append(connected["id"])
        return self._expanded(call, connected, params.expand)

    def _api_account_link_create(self, call: CallContext) -> dict[str, Any]:
        params = Params(call.params, ("account", "refresh_url", "return_url", "type", "collect"))
        account_id = params.text("account", required=True) or ""
        params.text("type", required=True, choices=("account_onboarding", "account_update"))
        self._owned(call.account.id, account_id, "account", param="account")
        link = {
            "object": "account_link",
            "created": unix_time(),
            "expires_at": unix_time() + ONBOARDING_LINK_TTL_SECONDS,
            "url": f"{call.base_url}/_sandbox/onboarding/{account_id}",
        }
        self._onboarding[account_id] = {
            "return_url": params.text("return_url"),
            "refresh_url": params.text("refresh_url"),
            "expires_at": link["expires_at"],
        }
        return link

    def _api_transfer_create(self, call: CallContext) -> dict[str, Any]:
        params = Params(
            call.params,
            (
                "amount",
                "currency",
                "destination",
                "transfer_group",
                "metadata",
                "description",
                "source_transaction",
            ),
        )
        amount = params.integer("amount", required=True) or 0
        currency = params.currency()
        destination = self._transfer_destination(call.account.id, params)
        available = self._balances.get(call.account.id, {}).get(currency, 0)
        if amount > available:
            raise StripeApiError(
                400,
                "You have insufficient available funds in your Stripe account. Try adding "
                "funds directly to your available balance by creating Charges.",
                code="balance_insufficient",
            )
        transfer = new_object("tr", "transfer")
        transfer.update(
            amount=amount,
            amount_reversed=0,
            currency=currency,
            destination=destination["id"],
            destination_payment=new_id("py"),
            transfer_group=params.text("transfer_group"),
            source_transaction=params.text("source_transaction"),
            description=params.text("description"),
            balance_transaction=new_id("txn"),
            reversed=False,
            reversals=empty_list(f"/v1/transfers/{transfer['id']}/reversals"),
            metadata=params.metadata(),
        )
        self._store(call.account.id, transfer)
        self._credit(call.account.id, currency, -amount)
        self._credit(destination["id"], currency, amount)
        self._emit(call.account.id, "transfer.created", transfer, request=call)
        return self._expanded(call, transfer, params.expand)

    def _transfer_destination(self, account_id: str, params: Params) -> dict[str, Any]:
        destination_id = params.text("destination", required=True) or ""
        if destination_id not in self._accounts[account_id].connected_accounts:
            raise StripeApiError(
                400,
                f"No such destination: '{destination_id}'",
                code="resource_missing",
                param="destination",
            )
        destination = self._objects[destination_id]
        if not destination["payouts_enabled"]:
            raise StripeApiError(
                400,
                "Your destination account needs to have at least one of the following "
                "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                code="insufficient_capabilities_for_transfer",
                param="destination",
            )
        return destination

    def _api_transfer_reverse(self, call: CallContext, object_id: str) -> dict[str, Any]:
        params = Params(call.params, ("amount", "metadata", "description"))
        transfer = self._owned(call.account.id, object_id, "transfer")
        remaining = transfer["amount"] - transfer["amount_reversed"]
        amount = params.integer("amount") or remaining
        if remaining == 0 or amount > remaining:
            raise StripeApiError(
                400,
                f"Reversal amount ({amount}) is greater than the transfer's unreversed amount "
                f"({remaining}).",
                code="amount_too_large",
                param="amount",
            )
        reversal = {
            **new_object("trr", "transfer_reversal"),
            "amount": amount,
            "currency": transfer["currency"],
            "transfer": transfer["id"],
            "balance_transaction": new_id("txn"),
            "destination_payment_refund": new_id("pyr"),
            "metadata": params.metadata(),
        }
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        transfer["reversals"]["data"].insert(0, copy.deepcopy(reversal))
        transfer["reversals"]["total_count"] += 1
        self._credit(call.account.id, transfer["currency"], amount)
        self._credit(transfer["destination"], transfer["currency"], -amount)
        self._emit(call.account.id, "transfer.reversed", transfer, request=call)
        return reversal

    def complete_onboarding(self, account_id: str) -> dict[str, Any]:
        """The advisor finishes Connect onboarding: payouts on, requirements met, and
        `account.updated` to the platform (Connect events carry `account`)."""
        with self._transaction():
            owner, connected = self._find(account_id, "account")
            if connected["payouts_enabled"]:
                return copy.deepcopy(connected)
            previous = {
                key: copy.deepcopy(connected[key])
                for key in (
                    "charges_enabled",
                    "payouts_enabled",
                    "details_submitted",
                    "capabilities",
                    "requirements",
                )
            }
            connected.update(
                charges_enabled=True,
                payouts_enabled=True,
                details_submitted=True,
                capabilities={name: "active" for name in connected["capabilities"]},
                requirements=requirements(due=[]),
            )
            self._emit(
                owner, "account.updated", connected, previous=previous, connected_account=account_id
            )
            return copy.deepcopy(connected)
