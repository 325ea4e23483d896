"""A licensee account holder's own account on the public host (Callrix is the controller):
see it, download it, correct it, erase it (privacy policy §8)."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema
from pydantic import Field

from compliance.callrix import account_rights as services
from compliance.callrix import account_selectors as selectors
from identity.auth import TokenAuth
from identity.models import User
from kernel.inputs import Line
from kernel.throttling import LicenseeRateThrottle
from shared_apps.accounts.errors import AccountNotFound
from shared_apps.accounts.models import AccountHolder

router = Router(tags=["account"])
holder_auth = TokenAuth(roles={User.Role.ACCOUNT_HOLDER})


class AccountBillingAddressIn(Schema):
    line1: Line | None = Field(default=None, max_length=200)
    line2: Line | None = Field(default=None, max_length=200)
    city: Line | None = Field(default=None, max_length=100)
    postal_code: Line | None = Field(default=None, max_length=20)
    country: Line | None = Field(default=None, max_length=2)


class AccountPatchIn(Schema):
    full_name: Line | None = Field(default=None, max_length=200)
    company: Line | None = Field(default=None, max_length=200)
    email: Line | None = Field(default=None, max_length=254)
    phone: Line | None = Field(default=None, max_length=40)
    billing_address: AccountBillingAddressIn | None = None


class AccountDeleteIn(Schema):
    password: Line = Field(max_length=128)


class BillingAddressOut(Schema):
    line1: str
    line2: str
    city: str
    postal_code: str
    country: str


class AccountOut(Schema):
    email: str
    full_name: str
    company: str
    phone: str
    billing_address: BillingAddressOut
    licensee: str | None
    updated_at: datetime


class AccountErasureOut(Schema):
    detail: str
    invoices_kept: int


def _holder(request) -> AccountHolder:
    holder = selectors.account_holder_for_user(user_id=request.auth.pk)
    if holder is None:
        raise AccountNotFound("This sign-in has no licensee account.")
    return holder


def _account(holder: AccountHolder) -> dict:
    return {
        "email": holder.user.email,
        "full_name": holder.full_name,
        "company": holder.company,
        "phone": holder.phone,
        "billing_address": selectors.billing_address_of(holder),
        "licensee": holder.licensee.slug if holder.licensee else None,
        "updated_at": holder.updated_at,
    }


@router.get("/account", response=AccountOut, auth=holder_auth)
def account(request):
    return _account(_holder(request))


@router.get(
    "/account/export",
    response=dict,
    auth=holder_auth,
    throttle=[LicenseeRateThrottle("subject_export")],
)
def account_export(request):
    return selectors.account_holder_export(holder=_holder(request))


@router.patch("/account", response=AccountOut, auth=holder_auth)
def account_update(request, payload: AccountPatchIn):
    address = payload.billing_address
    holder = services.account_holder_update(
        holder=_holder(request),
        full_name=payload.full_name,
        company=payload.company,
        email=payload.email,
        phone=payload.phone,
        billing_address=None
        if address is None
        else {k: v for k, v in address.dict().items() if v is not None},
    )
    return _account(holder)


# The password is checked here, so it is limited as sign-ins are.
@router.delete(
    "/account",
    response=AccountErasureOut,
    auth=holder_auth,
    throttle=[LicenseeRateThrottle("token")],
)
def account_erase(request, payload: AccountDeleteIn):
    receipt = services.account_holder_erase(holder=_holder(request), password=payload.password)
    return {
        "detail": "Your account is erased. Invoices are kept for 7 years, as tax law requires.",
        "invoices_kept": receipt.invoices_kept,
    }
