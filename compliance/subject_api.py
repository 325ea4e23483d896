"""The signed-in user's own privacy tools on a licensee host: their account (and its
erasure), their data, their consents, their restriction and objections."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema
from pydantic import Field

from callrix.throttling import LicenseeRateThrottle
from compliance import erasure, subject_access
from identity import api as identity_api
from identity.auth import TokenAuth
from identity.models import ConsentRecord

router = Router(tags=["privacy"])


class EraseIn(Schema):
    password: str = Field(max_length=128)


class ErasedOut(Schema):
    detail: str
    remaining_credit: int  # minor units, when the account closed
    credit_outcome: str  # none, refund or forfeit (the licensee's policy)
    currency: str


class ProcessingIn(Schema):
    processing_restricted: bool | None = None
    objects_to_marketing: bool | None = None
    objects_to_analytics: bool | None = None


class ProcessingOut(Schema):
    processing_restricted: bool
    objects_to_marketing: bool
    objects_to_analytics: bool


# One path, three methods: django-ninja serves a path from a single router, so the account
# itself (identity) is mounted here beside its erasure.
router.get("/me", response=identity_api.MeOut, auth=TokenAuth())(identity_api.me)
router.patch("/me", response=identity_api.MeOut, auth=TokenAuth())(identity_api.me_update)


@router.delete(
    "/me", response=ErasedOut, auth=TokenAuth(), throttle=[LicenseeRateThrottle("token")]
)
def my_account_erase(request, payload: EraseIn):
    done = erasure.account_erase_self(user=request.auth, password=payload.password)
    messages = {
        "none": "",
        "refund": " Your remaining credit will be refunded to your card.",
        "forfeit": " Your remaining credit was forfeited under the platform's terms.",
    }
    return {
        "detail": "Your account is closed and your personal data erased."
        + messages[done.balance_outcome],
        "remaining_credit": done.balance_minor,
        "credit_outcome": done.balance_outcome,
        "currency": request.tenant.currency,
    }


@router.get("/me/processing", response=ProcessingOut, auth=TokenAuth())
def my_processing(request):
    return subject_access.processing_choices_get(user=request.auth)


@router.patch("/me/processing", response=ProcessingOut, auth=TokenAuth())
def my_processing_update(request, payload: ProcessingIn):
    return subject_access.processing_choices_set(
        user=request.auth, **payload.dict(exclude_none=True)
    )


class ConsentsIn(Schema):
    marketing: bool


class ConsentRecordOut(Schema):
    purpose: str
    granted: bool
    recorded_at: datetime


class ConsentsOut(Schema):
    marketing: bool
    history: list[ConsentRecordOut]


def _consents(user) -> dict:
    current = subject_access.consents_current(user=user)
    history = ConsentRecord.objects.filter(user=user).order_by("-recorded_at", "-id")
    return {"marketing": current["marketing"], "history": list(history)}


@router.get(
    "/me/export", response=dict, auth=TokenAuth(), throttle=[LicenseeRateThrottle("subject_export")]
)
def my_data(request):
    return subject_access.subject_export_self(user=request.auth)


@router.get("/me/consents", response=ConsentsOut, auth=TokenAuth())
def my_consents(request):
    return _consents(request.auth)


@router.put("/me/consents", response=ConsentsOut, auth=TokenAuth())
def my_consents_update(request, payload: ConsentsIn):
    subject_access.consents_set(user=request.auth, choices={"marketing": payload.marketing})
    return _consents(request.auth)
