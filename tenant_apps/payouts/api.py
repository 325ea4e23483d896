"""Payouts: the advisor's onboarding, payout state, earnings and requests; the licensee
admins' policy, payout list and holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from identity.auth import ADMIN_ROLES, ADVISOR_ROLES, TokenAuth
from kernel.addresses import canonical_origin
from kernel.inputs import Id, Offset, Text
from tenant_apps.advisors.errors import AdvisorNotFound
from tenant_apps.advisors.selectors import advisor_for_user
from tenant_apps.payouts import selectors, services

advisor_router = Router(tags=["advisor"])
admin_router = Router(tags=["admin"])

ADVISOR = TokenAuth(roles=ADVISOR_ROLES)
ADMIN = TokenAuth(roles=ADMIN_ROLES)
Schedule = Literal["daily", "weekly", "monthly"]
PayoutStatus = Literal["pending", "paid", "failed", "reversed"]


class AccountLinkOut(Schema):
    url: str
    expires_at: datetime


class PayoutOut(Schema):
    id: int
    amount: int
    currency: str
    status: str
    trigger: str
    period: str
    attempts: int
    stripe_transfer_id: str | None
    failure_code: str | None
    failure_reason: str | None
    reversed: int
    created_at: datetime
    paid_at: datetime | None
    failed_at: datetime | None


class PayoutAdminOut(PayoutOut):
    advisor_id: int
    advisor_name: str


class PayoutPageOut(Schema):
    count: int
    results: list[PayoutAdminOut]


class NextPayoutOut(Schema):
    estimated_at: datetime
    amount: int
    blocked_by: str | None


class PayoutStateOut(Schema):
    onboarding_status: str
    payouts_enabled: bool
    requirements: list[str]
    disabled_reason: str | None
    held: bool
    hold_reason: str | None
    schedule: str
    minimum_amount: int
    clearing_days: int
    currency: str
    next_payout: NextPayoutOut
    payouts: list[PayoutOut]


class EarningsLineOut(Schema):
    call_id: int
    date: datetime
    talk_seconds: int
    amount_charged: int
    advisor_share: int
    licensee_share: int
    platform_fee: int
    # The earlier name, still sent for clients written against it; left out of the docs.
    callrix_fee: SkipJsonSchema[int]
    cleared_at: datetime
    cleared: bool


class EarningsOut(Schema):
    currency: str
    available: int
    pending: int
    paid: int
    in_flight: int
    clearing_days: int
    count: int
    lines: list[EarningsLineOut]


class PayoutRequestIn(Schema):
    amount: int | None = Field(default=None, gt=0, le=1_000_000_000)


class PayoutPolicyIn(Schema):
    schedule: Schedule
    minimum_amount: int = Field(gt=0, le=100_000_000)
    clearing_days: int = Field(default=7, ge=0, le=services.MAX_CLEARING_DAYS)


class PayoutPolicyOut(Schema):
    schedule: str
    minimum_amount: int
    clearing_days: int
    currency: str


class HoldIn(Schema):
    reason: Text = Field(min_length=1, max_length=300)


class HoldOut(Schema):
    advisor_id: int
    held: bool
    hold_reason: str | None
    held_at: datetime | None


def _payout_out(payout) -> dict:
    return {
        "id": payout.pk,
        "amount": payout.amount_minor,
        "currency": payout.currency,
        "status": payout.status,
        "trigger": payout.trigger,
        "period": payout.period_key,
        "attempts": payout.attempts,
        "stripe_transfer_id": payout.stripe_transfer_id,
        "failure_code": payout.failure_code or None,
        "failure_reason": payout.failure_reason or None,
        "reversed": payout.reversed_minor,
        "created_at": payout.created_at,
        "paid_at": payout.paid_at,
        "failed_at": payout.failed_at,
    }


def _own(request):
    advisor = advisor_for_user(user_id=request.auth.pk)
    if advisor is None:
        raise AdvisorNotFound("Your advisor profile does not exist.", field=None)
    return advisor


def _origin(request) -> str:
    return canonical_origin(request)  # never the request's Host header


# --- The advisor themself ------------------------------------------------------------------


@advisor_router.post("/advisor/payouts/onboarding", response={201: AccountLinkOut}, auth=ADVISOR)
def payout_onboarding(request):
    link = services.payout_onboarding_start(advisor=_own(request), origin=_origin(request))
    return Status(
        201, {"url": link.url, "expires_at": datetime.fromtimestamp(link.expires_at, UTC)}
    )


@advisor_router.get("/advisor/payouts", response=PayoutStateOut, auth=ADVISOR)
def payout_state(request):
    state = selectors.payout_state_get(advisor=_own(request))
    return state | {"payouts": [_payout_out(p) for p in state["payouts"]]}


@advisor_router.post("/advisor/payouts", response={201: PayoutOut}, auth=ADVISOR)
def payout_request(request, payload: PayoutRequestIn | None = None):
    payout = services.payout_request(
        advisor=_own(request), amount_minor=payload.amount if payload else None
    )
    return Status(201, _payout_out(payout))


@advisor_router.get("/advisor/earnings", response=EarningsOut, auth=ADVISOR)
def earnings(
    request,
    limit: int = Query(default=50, ge=1, le=200),
    offset: Offset = 0,
):
    advisor = _own(request)
    clearing_days = selectors.policy_get().clearing_days
    summary = selectors.earnings_get(advisor=advisor, clearing_days=clearing_days)
    count, lines = selectors.earnings_lines(
        advisor=advisor, clearing_days=clearing_days, limit=limit, offset=offset
    )
    return {
        "currency": summary.currency,
        "available": summary.available_minor,
        "pending": summary.pending_minor,
        "paid": summary.paid_minor,
        "in_flight": summary.in_flight_minor,
        "clearing_days": clearing_days,
        "count": count,
        "lines": lines,
    }


# --- Licensee admins -----------------------------------------------------------------------


def _policy_out(policy, request) -> dict:
    return {
        "schedule": policy.schedule,
        "minimum_amount": policy.minimum_amount_minor,
        "clearing_days": policy.clearing_days,
        "currency": request.tenant.currency,
    }


@admin_router.get("/admin/payouts/policy", response=PayoutPolicyOut, auth=ADMIN)
def payout_policy_get(request):
    return _policy_out(selectors.policy_get(), request)


@admin_router.put("/admin/payouts/policy", response=PayoutPolicyOut, auth=ADMIN)
def payout_policy_put(request, payload: PayoutPolicyIn):
    policy = services.payout_policy_set(
        schedule=payload.schedule,
        minimum_amount_minor=payload.minimum_amount,
        clearing_days=payload.clearing_days,
    )
    return _policy_out(policy, request)


@admin_router.get("/admin/payouts", response=PayoutPageOut, auth=ADMIN)
def payout_list(
    request,
    advisor_id: Id | None = None,
    status: PayoutStatus | None = None,
    limit: int = Query(default=50, ge=1, le=200),
    offset: Offset = 0,
):
    payouts = selectors.payouts_admin(advisor_id=advisor_id, status=status)
    return {
        "count": payouts.count(),
        "results": [
            _payout_out(p) | {"advisor_id": p.advisor_id, "advisor_name": p.advisor.display_name}
            for p in payouts[offset : offset + limit]
        ],
    }


def _hold_out(account) -> dict:
    return {
        "advisor_id": account.advisor_id,
        "held": account.held,
        "hold_reason": account.hold_reason or None,
        "held_at": account.held_at,
    }


@admin_router.post("/admin/advisors/{advisor_id}/payouts/hold", response=HoldOut, auth=ADMIN)
def payout_hold(request, advisor_id: Id, payload: HoldIn):
    account = services.payout_hold(advisor_id=advisor_id, reason=payload.reason, admin=request.auth)
    return _hold_out(account)


@admin_router.post("/admin/advisors/{advisor_id}/payouts/release", response=HoldOut, auth=ADMIN)
def payout_release(request, advisor_id: Id):
    return _hold_out(services.payout_release(advisor_id=advisor_id))
