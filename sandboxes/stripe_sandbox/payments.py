"""Payments: payment intents and the card payment the customer makes (or not), charges,
refunds and disputes."""

from __future__ import annotations

import copy
from typing import Any

from sandboxes.stripe_sandbox.calls import CallContext
from sandboxes.stripe_sandbox.errors import StripeApiError
from sandboxes.stripe_sandbox.objects import empty_list, new_id, new_object, random_token, unix_time
from sandboxes.stripe_sandbox.params import Params
from sandboxes.stripe_sandbox.webhooks import Webhooks

CANCELABLE_STATUSES = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
PAYABLE_STATUSES = ("requires_payment_method", "requires_confirmation", "requires_action")
OPEN_DISPUTE_STATUSES = ("needs_response", "under_review", "warning_needs_response")


# Stripe takes three-decimal currencies in payment intents, refunds and disputes only with a
# last digit of 0 (docs.stripe.com/currencies, "Three-decimal currencies").
THREE_DECIMAL_CURRENCIES = ("bhd", "jod", "kwd", "omr", "tnd")


def check_three_decimal_amount(amount: int, currency: str) -> None:
    if currency in THREE_DECIMAL_CURRENCIES and amount % 10:
        raise StripeApiError(
            400,
            f"Amounts in {currency} must be rounded to the nearest ten minor units (the last "
            "digit must be 0).",
            code="invalid_charge_amount",
            param="amount",
        )


def _payment_intent_object(params: Params) -> dict[str, Any]:
    intent = new_object("pi", "payment_intent")
    automatic = params.mapping("automatic_payment_methods")
    amount = params.integer("amount", required=True) or 0
    currency = params.currency()
    check_three_decimal_amount(amount, currency)
    return {
        **intent,
        "client_secret": f"{intent['id']}_secret_{random_token(25)}",
        "amount": amount,
        "amount_received": 0,
        "currency": currency,
        "status": "requires_payment_method",
        "capture_method": "automatic",
        "confirmation_method": "automatic",
        "automatic_payment_methods": (
            {"enabled": str(automatic.get("enabled")).lower() == "true"} if automatic else None
        ),
        "payment_method_types": params.data.get("payment_method_types") or ["card"],
        "description": params.text("description"),
        "customer": params.text("customer"),
        "receipt_email": params.text("receipt_email"),
        "statement_descriptor": params.text("statement_descriptor"),
        "statement_descriptor_suffix": params.text("statement_descriptor_suffix"),
        "transfer_group": params.text("transfer_group"),
        "metadata": params.metadata(),
        "latest_charge": None,
        "payment_method": None,
        "last_payment_error": None,
        "canceled_at": None,
        "cancellation_reason": None,
    }


def _charge_object(intent: dict[str, Any]) -> dict[str, Any]:
    charge = new_object("ch", "charge")
    return {
        **charge,
        "amount": intent["amount"],
        "amount_captured": intent["amount"],
        "amount_refunded": 0,
        "currency": intent["currency"],
        "status": "succeeded",
        "paid": True,
        "captured": True,
        "refunded": False,
        "disputed": False,
        "payment_intent": intent["id"],
        "payment_method": intent["payment_method"],
        "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}},
        "balance_transaction": new_id("txn"),
        "customer": intent["customer"],
        "description": intent["description"],
        "transfer_group": intent["transfer_group"],
        "metadata": dict(intent["metadata"]),
        "refunds": empty_list(f"/v1/charges/{charge['id']}/refunds"),
    }


def _dispute_object(charge: dict[str, Any], amount: int, reason: str) -> dict[str, Any]:
    return {
        **new_object("dp", "dispute"),
        "amount": amount,
        "currency": charge["currency"],
        "charge": charge["id"],
        "payment_intent": charge["payment_intent"],
        "reason": reason,
        "status": "needs_response",
        "is_charge_refundable": False,
        "evidence_details": {
            "due_by": unix_time() + 7 * 86400,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "balance_transactions": [],
        "metadata": {},
    }


class Payments(Webhooks):
    """Payment intents, refunds and disputes: Stripe's endpoints, and the customer's and the
    card network's part."""

    def _api_payment_intent_create(self, call: CallContext) -> dict[str, Any]:
        params = Params(
            call.params,
            (
                "amount",
                "currency",
                "metadata",
                "automatic_payment_methods",
                "description",
                "payment_method_types",
                "customer",
                "receipt_email",
                "statement_descriptor",
                "statement_descriptor_suffix",
                "transfer_group",
            ),
        )
        intent = self._store(call.account.id, _payment_intent_object(params))
        self._emit(call.account.id, "payment_intent.created", intent, request=call)
        return self._expanded(call, intent, params.expand)

    def _api_payment_intent_cancel(self, call: CallContext, object_id: str) -> dict[str, Any]:
        params = Params(call.params, ("cancellation_reason",))
        intent = self._owned(call.account.id, object_id, "payment_intent", param="intent")
        if intent["status"] not in CANCELABLE_STATUSES:
            raise StripeApiError(
                400,
                "You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}. Only a PaymentIntent with one of the following statuses "
                f"may be canceled: {', '.join(CANCELABLE_STATUSES)}.",
                code="payment_intent_unexpected_state",
            )
        intent["status"] = "canceled"
        intent["canceled_at"] = unix_time()
        intent["cancellation_reason"] = params.text(
            "cancellation_reason",
            choices=("duplicate", "fraudulent", "requested_by_customer", "abandoned"),
        )
        self._emit(call.account.id, "payment_intent.canceled", intent, request=call)
        return self._expanded(call, intent, params.expand)

    def _api_refund_create(self, call: CallContext) -> dict[str, Any]:
        params = Params(
            call.params,
            ("payment_intent", "charge", "amount", "metadata", "reason", "instructions_email"),
        )
        charge = self._refundable_charge(call.account.id, params)
        remaining = charge["amount"] - charge["amount_refunded"]
        amount = params.integer("amount") or remaining
        self._check_refund_amount(charge, amount, remaining)
        refund = self._store(
            call.account.id,
            {
                **new_object("re", "refund"),
                "amount": amount,
                "currency": charge["currency"],
                "charge": charge["id"],
                "payment_intent": charge["payment_intent"],
                "reason": params.text(
                    "reason", choices=("duplicate", "fraudulent", "requested_by_customer")
                ),
                "status": "succeeded",
                "balance_transaction": new_id("txn"),
                "metadata": params.metadata(),
            },
        )
        self._apply_refund(charge, refund)
        self._emit(call.account.id, "charge.refunded", charge, request=call)
        self._emit(call.account.id, "refund.created", refund, request=call)
        return self._expanded(call, refund, params.expand)

    def _refundable_charge(self, account_id: str, params: Params) -> dict[str, Any]:
        intent_id = params.text("payment_intent")
        charge_id = params.text("charge")
        if intent_id:
            intent = self._owned(account_id, intent_id, "payment_intent", param="payment_intent")
            charge_id = intent["latest_charge"]
            if intent["status"] != "succeeded" or not charge_id:
                raise StripeApiError(
                    400,
                    f"This PaymentIntent ({intent_id}) does not have a successful charge to "
                    "refund.",
                    code="charge_not_refundable",
                    param="payment_intent",
                )
        if not charge_id:
            raise StripeApiError(
                400,
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
            )
        return self._owned(account_id, charge_id, "charge", param="charge")

    @staticmethod
    def _check_refund_amount(charge: dict[str, Any], amount: int, remaining: int) -> None:
        check_three_decimal_amount(amount, charge["currency"])
        if charge["disputed"]:
            raise StripeApiError(
                400,
                f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                code="charge_disputed",
            )
        if remaining == 0:
            raise StripeApiError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        if amount > remaining:
            raise StripeApiError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                f"({remaining})",
                code="amount_too_large",
                param="amount",
            )

    def _apply_refund(self, charge: dict[str, Any], refund: dict[str, Any]) -> None:
        charge["amount_refunded"] += refund["amount"]
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        charge["refunds"]["data"].insert(0, copy.deepcopy(refund))
        charge["refunds"]["total_count"] += 1
        self._credit(self._owners[charge["id"]], charge["currency"], -refund["amount"])

    def succeed_payment_intent(self, payment_intent_id: str) -> dict[str, Any]:
        """The customer's card payment succeeds: a charge, the funds, two events."""
        with self._transaction():
            owner, intent = self._find(payment_intent_id, "payment_intent")
            self._check_payable(intent)
            intent["payment_method"] = new_id("pm")
            charge = self._store(owner, _charge_object(intent))
            intent.update(
                status="succeeded",
                amount_received=intent["amount"],
                latest_charge=charge["id"],
                last_payment_error=None,
            )
            self._credit(owner, intent["currency"], intent["amount"])
            self._emit(owner, "payment_intent.succeeded", intent)
            self._emit(owner, "charge.succeeded", charge)
            return copy.deepcopy(intent)

    def fail_payment_intent(
        self,
        payment_intent_id: str,
        *,
        decline_code: str = "generic_decline",
        message: str = "Your card was declined.",
    ) -> dict[str, Any]:
        """The customer's card is declined; the intent waits for another payment method."""
        with self._transaction():
            owner, intent = self._find(payment_intent_id, "payment_intent")
            self._check_payable(intent)
            intent.update(
                status="requires_payment_method",
                last_payment_error={
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": decline_code,
                    "message": message,
                },
            )
            self._emit(owner, "payment_intent.payment_failed", intent)
            return copy.deepcopy(intent)

    def dispute_charge(
        self, charge_id: str, *, amount: int | None = None, reason: str = "fraudulent"
    ) -> dict[str, Any]:
        """The cardholder disputes the charge; Stripe withdraws the amount at once."""
        with self._transaction():
            owner, charge = self._find(charge_id, "charge")
            disputable = charge["amount"] - charge["amount_refunded"]
            if charge["disputed"] or disputable == 0:
                raise StripeApiError(400, f"Charge {charge_id} cannot be disputed.")
            dispute = self._store(owner, _dispute_object(charge, amount or disputable, reason))
            charge["disputed"] = True
            self._credit(owner, charge["currency"], -dispute["amount"])
            self._emit(owner, "charge.dispute.created", dispute)
            self._emit(owner, "charge.dispute.funds_withdrawn", dispute)
            return copy.deepcopy(dispute)

    def close_dispute(self, dispute_id: str, status: str) -> dict[str, Any]:
        """The card network decides: `won` gives the funds back, `lost` keeps them withdrawn."""
        if status not in ("won", "lost"):
            raise StripeApiError(400, "Invalid status: must be one of won, lost", param="status")
        with self._transaction():
            owner, dispute = self._find(dispute_id, "dispute")
            if dispute["status"] not in OPEN_DISPUTE_STATUSES:
                raise StripeApiError(400, f"Dispute {dispute_id} is already closed.")
            dispute["status"] = status
            self._emit(owner, "charge.dispute.closed", dispute)
            if status == "won":
                self._credit(owner, dispute["currency"], dispute["amount"])
                self._emit(owner, "charge.dispute.funds_reinstated", dispute)
            return copy.deepcopy(dispute)

    @staticmethod
    def _check_payable(intent: dict[str, Any]) -> None:
        if intent["status"] not in PAYABLE_STATUSES:
            raise StripeApiError(
                400,
                f"This PaymentIntent's status is {intent['status']}; it cannot be paid.",
                code="payment_intent_unexpected_state",
            )
