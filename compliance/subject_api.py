"""The signed-in user's own privacy tools on a licensee host: their data, their consents."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema

from callrix.throttling import LicenseeRateThrottle
from compliance import subject_access
from identity.auth import TokenAuth
from identity.models import ConsentRecord

router = Router(tags=["privacy"])


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
    return subject_access.subject_export(user=request.auth)


@router.get("/me/consents", response=ConsentsOut, auth=TokenAuth())
def my_consents(request):
    return _consents(request.auth)


@router.put("/me/consents", response=ConsentsOut, auth=TokenAuth())
def my_consents_update(request, payload: ConsentsIn):
    subject_access.consents_set(user=request.auth, choices={"marketing": payload.marketing})
    return _consents(request.auth)
