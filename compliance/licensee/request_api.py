"""The licensee's request log and its actions, for its owner and admins."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from compliance.licensee import erasure, privacy_requests, subject_access
from compliance.licensee.models import PrivacyRequest
from compliance.licensee.subject_api import ErasureCreditOut, credit_out
from identity.auth import ADMIN_ROLES, TokenAuth
from kernel.inputs import Id, Line, Offset, Text

router = Router(tags=["admin"])
ADMIN = TokenAuth(roles=ADMIN_ROLES)


class PrivacyRequestIn(Schema):
    type: Literal["access", "erasure", "rectification", "restriction", "objection", "portability"]
    email: Line = Field(max_length=254)
    received_at: datetime | None = None
    notes: Text = Field(default="", max_length=4_000)


class CompleteIn(Schema):
    outcome: Literal["fulfilled", "refused"]
    notes: Text = Field(default="", max_length=4_000)


class PrivacyRequestOut(Schema):
    id: int
    type: str
    subject_id: int | None
    subject_email: str
    channel: str
    received_at: datetime
    due_at: datetime
    completed_at: datetime | None
    outcome: str | None
    overdue: bool
    notes: str


class ErasureOut(Schema):
    user_id: int
    credit: ErasureCreditOut
    request: PrivacyRequestOut


def _out(request: PrivacyRequest) -> dict:
    return {
        "id": request.pk,
        "type": request.type,
        "subject_id": request.subject_id,
        "subject_email": request.subject_email,
        "channel": request.channel,
        "received_at": request.received_at,
        "due_at": request.due_at,
        "completed_at": request.completed_at,
        "outcome": request.outcome or None,
        "overdue": privacy_requests.privacy_request_is_overdue(request),
        "notes": request.notes,
    }


def _erasure_out(done: erasure.Erasure) -> dict:
    return {
        "user_id": done.user_id,
        "credit": credit_out(done.credit),
        "request": _out(done.request),
    }


@router.get("/admin/privacy-requests", response=list[PrivacyRequestOut], auth=ADMIN)
def privacy_request_list(
    request,
    status: Literal["open", "overdue", "all"] = "all",
    limit: int = Query(default=100, ge=1, le=500),
    offset: Offset = 0,
):
    rows = privacy_requests.privacy_request_list(
        open_only=status == "open", overdue_only=status == "overdue"
    )
    return [_out(row) for row in rows[offset : offset + limit]]


@router.post("/admin/privacy-requests", response={201: PrivacyRequestOut}, auth=ADMIN)
def privacy_request_create(request, payload: PrivacyRequestIn):
    created = privacy_requests.privacy_request_create(
        admin=request.auth,
        type=payload.type,
        email=payload.email,
        received_at=payload.received_at,
        notes=payload.notes,
    )
    return Status(201, _out(created))


@router.get("/admin/privacy-requests/{request_id}", response=PrivacyRequestOut, auth=ADMIN)
def privacy_request_get(request, request_id: Id):
    return _out(privacy_requests.privacy_request_get(request_id=request_id))


@router.post(
    "/admin/privacy-requests/{request_id}/complete", response=PrivacyRequestOut, auth=ADMIN
)
def privacy_request_complete(request, request_id: Id, payload: CompleteIn):
    done = privacy_requests.privacy_request_complete(
        request_id=request_id, outcome=payload.outcome, notes=payload.notes, admin=request.auth
    )
    return _out(done)


@router.post("/admin/privacy-requests/{request_id}/export", response=dict, auth=ADMIN)
def privacy_request_export(request, request_id: Id):
    """The subject's data as JSON (as they would get it from /me/export), to send them."""
    return subject_access.privacy_request_export(request_id=request_id)


@router.post("/admin/privacy-requests/{request_id}/erase", response=ErasureOut, auth=ADMIN)
def privacy_request_erase(request, request_id: Id):
    return _erasure_out(erasure.privacy_request_erase(request_id=request_id, admin=request.auth))


@router.post("/admin/users/{user_id}/minor", response=ErasureOut, auth=ADMIN)
def user_flag_minor(request, user_id: Id):
    """The account belongs to a minor: it is erased at once (its credit refunded)."""
    done = erasure.account_flag_minor(
        user_id=user_id, flagged_by_id=request.auth.pk, channel=PrivacyRequest.Channel.ADMIN
    )
    return _erasure_out(done)
