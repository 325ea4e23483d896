"""Licensee sign-up and the plans on offer, on the public host's platform API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from identity.auth import TokenAuth
from identity.models import User
from kernel.inputs import Line
from kernel.throttling import LicenseeRateThrottle
from shared_apps.billing import selectors as billing_selectors
from shared_apps.licensing import lifecycle, signup
from tenants import addresses

router = Router(tags=["signup"])


class BillingAddressIn(Schema):
    line1: Line = Field(max_length=200)
    line2: Line = Field(default="", max_length=200)
    city: Line = Field(max_length=100)
    postal_code: Line = Field(max_length=20)
    country: Line = Field(max_length=100)


class SignupIn(Schema):
    slug: Line = Field(max_length=100)
    company: Line = Field(max_length=200)
    full_name: Line = Field(max_length=200)
    email: Line = Field(max_length=254)
    phone: Line = Field(default="", max_length=40)
    password: Line = Field(max_length=128)
    billing_address: BillingAddressIn
    plan: Line = Field(max_length=40)


class PlanOut(Schema):
    code: str
    name: str
    monthly_fee_minor: int
    currency: str
    included_advisors: int
    included_minutes: int
    revenue_share_bps: int
    trial_days: int


class SubscriptionOut(Schema):
    id: str
    status: str
    plan: str
    trial_end: datetime | None


class LicenseeOut(Schema):
    slug: str
    status: str
    url: str


class InvoiceOut(Schema):
    id: str
    number: str
    status: str
    amount_due_minor: int
    currency: str
    hosted_invoice_url: str


class SignupOut(Schema):
    next_step: Literal["pay", "ready"]
    subscription: SubscriptionOut
    licensee: LicenseeOut | None
    invoice: InvoiceOut | None
    # Confirms the first payment with Stripe.js; or pay on the invoice's hosted page.
    client_secret: str | None


@router.get("/plans", response=list[PlanOut], auth=None)
def plan_list(request):
    return list(billing_selectors.plan_list_active())


@router.post(
    "/signup",
    response={201: SignupOut},
    auth=None,
    throttle=[LicenseeRateThrottle("signup")],
)
def signup_create(request, payload: SignupIn):
    result = signup.licensee_signup(
        slug=payload.slug,
        company=payload.company,
        full_name=payload.full_name,
        email=payload.email,
        phone=payload.phone,
        password=payload.password,
        billing_address=payload.billing_address.model_dump(),
        plan=payload.plan,
    )
    subscription, licensee, invoice = result.subscription, result.licensee, result.invoice
    return Status(
        201,
        {
            "next_step": "pay" if result.awaiting_payment else "ready",
            "subscription": {
                "id": subscription.stripe_subscription_id,
                "status": subscription.status,
                "plan": subscription.plan.code,
                "trial_end": subscription.trial_end,
            },
            "licensee": (
                {
                    "slug": licensee.slug,
                    "status": licensee.status,
                    "url": f"{addresses.licensee_origin(licensee.slug)}/",
                }
                if licensee
                else None
            ),
            "invoice": (
                {
                    "id": invoice.id,
                    "number": invoice.number,
                    "status": invoice.status,
                    "amount_due_minor": invoice.amount_due_minor,
                    "currency": invoice.currency,
                    "hosted_invoice_url": invoice.hosted_invoice_url,
                }
                if invoice
                else None
            ),
            "client_secret": (
                (invoice.client_secret or None) if result.awaiting_payment and invoice else None
            ),
        },
    )


class PlanChangeIn(Schema):
    plan: str = Field(max_length=40)


class PlanChangeOut(Schema):
    plan: str
    revenue_share_bps: int
    included_advisors: int
    included_minutes: int
    effective_from: datetime


@router.post(
    "/account/plan",
    response=PlanChangeOut,
    auth=TokenAuth(roles={User.Role.ACCOUNT_HOLDER}),
)
def account_plan_change(request, payload: PlanChangeIn):
    """Move your licensee to another plan: Stripe prorates the rest of the period onto the
    next invoice; the plan's fee and inclusions apply to calls from now on."""
    terms = lifecycle.account_plan_change(user_id=request.auth.pk, plan_code=payload.plan)
    return {
        "plan": terms.plan.code,
        "revenue_share_bps": terms.revenue_share_bps,
        "included_advisors": terms.included_advisors,
        "included_minutes": terms.included_minutes,
        "effective_from": terms.effective_from,
    }
