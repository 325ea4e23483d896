"""Top-ups for end users; the Stripe connection, refunds and credits for licensee admins."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from identity.auth import ADMIN_ROLES, END_USER_ROLES, AuthenticatedRequest, TokenAuth
from kernel.inputs import Amount, Id, Line, PositiveInt32, Text
from kernel.throttling import LicenseeRateThrottle
from tenant_apps.payments import selectors, services
from tenant_apps.payments.errors import TopUpNotFound
from tenant_apps.payments.models import TopUp

router = Router(tags=["payments"])
admin_router = Router(tags=["admin"])


class TopUpIn(Schema):
    amount: int | None = Field(default=None, gt=0, le=100_000_000)
    package: Line | None = Field(default=None, max_length=40)
    promo_code: Line | None = Field(default=None, max_length=40)


class TopUpOut(Schema):
    id: int
    status: str
    amount: int
    bonus: int
    promotion_bonus: int
    currency: str
    client_secret: str
    publishable_key: str
    payment_intent: str | None
    created_at: datetime


class PackageOut(Schema):
    code: str
    name: str
    amount: int
    bonus: int


class TopUpReceiptOut(Schema):
    number: str
    topup_id: int
    merchant: str
    paid_at: datetime
    amount: int
    bonus: int
    refunded: int
    currency: str
    payment_reference: str


def _topup_out(topup: TopUp) -> dict[str, object]:
    row = selectors.stripe_connection_get()
    return {
        "id": topup.pk,
        "status": topup.status,
        "amount": topup.amount_minor,
        "bonus": topup.bonus_minor,
        "promotion_bonus": topup.promotion_bonus_minor,
        "currency": topup.currency,
        "client_secret": topup.client_secret,
        "publishable_key": row.publishable_key if row else "",
        "payment_intent": topup.payment_intent_id,
        "created_at": topup.created_at,
    }


@router.get("/wallet/packages", response=list[PackageOut], auth=None)
def packages(request: HttpRequest) -> list[dict[str, object]]:
    return [
        {"code": p.code, "name": p.name, "amount": p.amount_minor, "bonus": p.bonus_minor}
        for p in selectors.topup_packages_active()
    ]


@router.post(
    "/wallet/topups",
    response={201: TopUpOut},
    auth=TokenAuth(roles=END_USER_ROLES),
    throttle=[LicenseeRateThrottle("topup")],
)
def topup_create(request: AuthenticatedRequest, payload: TopUpIn) -> Status[dict[str, object]]:
    topup = services.topup_create(
        user=request.auth,
        amount_minor=payload.amount,
        package_code=payload.package,
        promo_code=payload.promo_code or None,
    )
    return Status(201, _topup_out(topup))


@router.get("/wallet/topups/{topup_id}", response=TopUpOut, auth=TokenAuth(roles=END_USER_ROLES))
def topup_get(request: AuthenticatedRequest, topup_id: Id) -> dict[str, object]:
    topup = selectors.topup_get_for_user(user_id=request.auth.pk, topup_id=topup_id)
    if topup is None:
        raise TopUpNotFound("There is no such top-up.", field="topup_id")
    return _topup_out(topup)


class SandboxPaymentIn(Schema):
    succeed: bool = True


@router.post(
    "/wallet/topups/{topup_id}/sandbox/pay",
    response=TopUpOut,
    auth=TokenAuth(roles=END_USER_ROLES),
    throttle=[LicenseeRateThrottle("topup")],
)
def topup_sandbox_pay(
    request: AuthenticatedRequest, topup_id: Id, payload: SandboxPaymentIn
) -> dict[str, object]:
    """Offline demo only (the licensee's Stripe keys are the local sandbox's): pay or
    decline the top-up with a test card. 409 `not_sandbox` with real Stripe keys."""
    topup = services.topup_sandbox_pay(
        user=request.auth, topup_id=topup_id, succeed=payload.succeed
    )
    return _topup_out(topup)


@router.get(
    "/wallet/topups/{topup_id}/receipt",
    response=TopUpReceiptOut,
    auth=TokenAuth(roles=END_USER_ROLES),
)
def topup_receipt(request: AuthenticatedRequest, topup_id: Id) -> dict[str, object]:
    receipt = selectors.topup_receipt(topup_id=topup_id, user_id=request.auth.pk)
    if receipt is None:
        raise TopUpNotFound("There is no receipt for this top-up.", field="topup_id")
    return {
        "number": receipt["number"],
        "topup_id": receipt["topup_id"],
        "merchant": receipt["merchant"],
        "paid_at": receipt["paid_at"],
        "amount": receipt["amount_minor"],
        "bonus": receipt["bonus_minor"],
        "refunded": receipt["refunded_minor"],
        "currency": receipt["currency"],
        "payment_reference": receipt["payment_reference"],
    }


# --- Licensee admins -----------------------------------------------------------------------


class StripeKeysIn(Schema):
    secret_key: Line = Field(max_length=255)
    publishable_key: Line = Field(max_length=255)
    webhook_secret: Line = Field(max_length=255)
    # The Connect endpoint's own signing secret; left as it is when not given.
    connect_webhook_secret: Line | None = Field(default=None, max_length=255)


class StripeConnectionOut(Schema):
    connected: bool
    account_id: str | None = None
    account_name: str | None = None
    livemode: bool | None = None
    secret_key: str | None = None
    publishable_key: str | None = None
    webhook_secret: str | None = None
    connect_webhook_secret: str | None = None
    connected_at: datetime | None = None


class RefundIn(Schema):
    amount: Amount | None = None
    reason: Text = Field(max_length=500)


class RefundOut(Schema):
    id: int
    topup_id: int
    amount: int
    reason: str
    # `pending` while Stripe's answer has not come (asked again shortly); `failed` when
    # Stripe refused it (the booking is reversed)
    status: str
    stripe_refund_id: str | None


class CreditIn(Schema):
    amount: int = Field(gt=0, le=10_000_000)
    reason: Text = Field(max_length=500)
    idempotency_key: Line | None = Field(default=None, max_length=100)


class CreditGrantOut(Schema):
    id: int
    user_id: int
    amount: int
    reason: str


class TopUpPolicyIn(Schema):
    min_amount: PositiveInt32
    max_amount: PositiveInt32


class TopUpPolicyOut(Schema):
    min_amount: int
    max_amount: int


class PackageIn(Schema):
    code: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    name: Line = Field(max_length=100)
    amount: int = Field(gt=0, le=100_000_000)
    bonus: int = Field(default=0, ge=0, le=100_000_000)


ADMIN = TokenAuth(roles=ADMIN_ROLES)


@admin_router.get("/admin/payments/stripe", response=StripeConnectionOut, auth=ADMIN)
def stripe_connection_get(request: AuthenticatedRequest) -> selectors.StripeConnectionSummary:
    return selectors.stripe_connection_summary()


@admin_router.put("/admin/payments/stripe", response=StripeConnectionOut, auth=ADMIN)
def stripe_connection_put(
    request: AuthenticatedRequest, payload: StripeKeysIn
) -> selectors.StripeConnectionSummary:
    services.stripe_connect(
        secret_key=payload.secret_key,
        publishable_key=payload.publishable_key,
        webhook_secret=payload.webhook_secret,
        connect_webhook_secret=payload.connect_webhook_secret,
        admin=request.auth,
    )
    return selectors.stripe_connection_summary()


@admin_router.get("/admin/payments/topup-policy", response=TopUpPolicyOut, auth=ADMIN)
def topup_policy_get(request: AuthenticatedRequest) -> dict[str, int]:
    policy = selectors.topup_policy_get()
    return {"min_amount": policy.min_amount_minor, "max_amount": policy.max_amount_minor}


@admin_router.put("/admin/payments/topup-policy", response=TopUpPolicyOut, auth=ADMIN)
def topup_policy_put(request: AuthenticatedRequest, payload: TopUpPolicyIn) -> dict[str, int]:
    policy = services.topup_policy_set(
        min_amount_minor=payload.min_amount, max_amount_minor=payload.max_amount
    )
    return {"min_amount": policy.min_amount_minor, "max_amount": policy.max_amount_minor}


@admin_router.post("/admin/payments/packages", response={201: PackageOut}, auth=ADMIN)
def package_create(request: AuthenticatedRequest, payload: PackageIn) -> Status[dict[str, object]]:
    package = services.topup_package_create(
        code=payload.code,
        name=payload.name,
        amount_minor=payload.amount,
        bonus_minor=payload.bonus,
    )
    return Status(
        201,
        {
            "code": package.code,
            "name": package.name,
            "amount": package.amount_minor,
            "bonus": package.bonus_minor,
        },
    )


@admin_router.post("/admin/topups/{topup_id}/refund", response={201: RefundOut}, auth=ADMIN)
def topup_refund(
    request: AuthenticatedRequest, topup_id: Id, payload: RefundIn
) -> Status[dict[str, object]]:
    refund = services.topup_refund(
        topup_id=topup_id, amount_minor=payload.amount, reason=payload.reason, admin=request.auth
    )
    return Status(
        201,
        {
            "id": refund.pk,
            "topup_id": refund.topup_id,
            "amount": refund.amount_minor,
            "reason": refund.reason,
            "status": refund.status,
            "stripe_refund_id": refund.stripe_refund_id,
        },
    )


@admin_router.post("/admin/users/{user_id}/credits", response={201: CreditGrantOut}, auth=ADMIN)
def credit_grant(
    request: AuthenticatedRequest, user_id: Id, payload: CreditIn
) -> Status[dict[str, object]]:
    grant = services.credit_grant(
        user_id=user_id,
        amount_minor=payload.amount,
        reason=payload.reason,
        admin=request.auth,
        idempotency_key=payload.idempotency_key or uuid.uuid4().hex,
    )
    return Status(
        201,
        {
            "id": grant.pk,
            "user_id": grant.user_id,
            "amount": grant.amount_minor,
            "reason": grant.reason,
        },
    )
