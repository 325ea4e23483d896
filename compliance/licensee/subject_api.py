"""The signed-in user's own privacy tools on a licensee host: their account (and its
erasure), their data, their consents, their restriction and objections."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema
from pydantic import Field

from compliance.licensee import erasure, subject_access
from identity import api as identity_api
from identity.auth import TokenAuth
from identity.models import ConsentRecord
from kernel.inputs import Line
from kernel.throttling import LicenseeRateThrottle
from tenants.bridge import licensee_current

router = Router(tags=["privacy"])


class EraseIn(Schema):
    password: Line = Field(max_length=128)


class ErasureCreditOut(Schema):
    """What became of the wallet's credit (minor units) under the licensee's policy."""

    policy: str  # refund or forfeit
    total: int
    refund_due: int
    forfeited: int
    promotional_returned: int  # bonus and goodwill credit, never paid for
    currency: str


def credit_out(credit: erasure.Credit) -> dict:
    return {
        "policy": credit.policy,
        "total": credit.total_minor,
        "refund_due": credit.refund_due_minor,
        "forfeited": credit.forfeited_minor,
        "promotional_returned": credit.promotional_minor,
        "currency": licensee_current().currency,
    }


class ErasedOut(Schema):
    detail: str
    credit: ErasureCreditOut


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
    detail = "Your account is closed and your personal data erased."
    if done.credit.refund_due_minor:
        detail += " Your remaining paid credit will be refunded to your card."
    if done.credit.forfeited_minor:
        detail += " Your remaining credit lapsed under the platform's terms."
    return {"detail": detail, "credit": credit_out(done.credit)}


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
