"""The licensee's log of data-subject requests: writes and reads. Every request is due
30 days after it was received (GDPR Art. 12(3)); one still open after that is overdue."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from compliance.licensee.errors import (
    PrivacyRequestClosed,
    PrivacyRequestInvalid,
    PrivacyRequestNotFound,
)
from compliance.licensee.models import PRIVACY_REQUEST_DAYS, PrivacyRequest
from identity.models import User

Type = PrivacyRequest.Type
Channel = PrivacyRequest.Channel
Outcome = PrivacyRequest.Outcome


def privacy_request_due(received_at: datetime) -> datetime:
    return received_at + timedelta(days=PRIVACY_REQUEST_DAYS)


def privacy_request_is_overdue(request: PrivacyRequest, *, now: datetime | None = None) -> bool:
    return request.completed_at is None and request.due_at < (now or timezone.now())


def privacy_request_log(
    *,
    type: str,
    channel: str,
    subject: User | None = None,
    subject_email: str = "",
    received_at: datetime | None = None,
    notes: str = "",
    logged_by_id: int | None = None,
    outcome: str = "",
) -> PrivacyRequest:
    """One entry; with an `outcome` it is logged as already completed (self-service)."""
    now = timezone.now()
    received_at = received_at or now
    return PrivacyRequest.objects.create(
        type=type,
        channel=channel,
        subject=subject,
        subject_email=subject_email or (subject.email if subject else ""),
        received_at=received_at,
        due_at=privacy_request_due(received_at),
        completed_at=now if outcome else None,
        outcome=outcome,
        notes=notes[:4_000],
        logged_by_id=logged_by_id,
    )


def privacy_request_create(
    *, admin: User, type: str, email: str, received_at: datetime | None = None, notes: str = ""
) -> PrivacyRequest:
    """Log a request received by e-mail. The address is kept as given; it is linked to the
    account that has it here, if any (a request about nobody here is still answered)."""
    if type not in Type.values:
        raise PrivacyRequestInvalid(f"Choose one of: {', '.join(Type.values)}.", field="type")
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        raise PrivacyRequestInvalid("Enter the address the request came from.", field="email")
    now = timezone.now()
    received_at = received_at or now
    if received_at > now + timedelta(minutes=5):
        raise PrivacyRequestInvalid("The date received is in the future.", field="received_at")
    subject = User.objects.filter(email=email, erased_at__isnull=True).first()
    with transaction.atomic():
        return privacy_request_log(
            type=type,
            channel=Channel.EMAIL,
            subject=subject,
            subject_email=email,
            received_at=received_at,
            notes=notes,
            logged_by_id=admin.pk,
        )


def privacy_request_for_update(*, request_id: int) -> PrivacyRequest:
    request = PrivacyRequest.objects.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise PrivacyRequestNotFound("There is no such request.", field="request_id")
    return request


def privacy_request_complete(
    *, request_id: int, outcome: str, notes: str = "", admin: User | None = None
) -> PrivacyRequest:
    if outcome not in Outcome.values:
        raise PrivacyRequestInvalid("Choose fulfilled or refused.", field="outcome")
    notes = (notes or "").strip()
    if outcome == Outcome.REFUSED and not notes:
        # Art. 12(4): a refusal must tell the person why.
        raise PrivacyRequestInvalid("Say why the request is refused.", field="notes")
    with transaction.atomic():
        request = privacy_request_for_update(request_id=request_id)
        privacy_request_close(request=request, outcome=outcome, notes=notes)
    return request


def privacy_request_close(*, request: PrivacyRequest, outcome: str, notes: str = "") -> None:
    """Complete a locked, open request (inside the caller's transaction)."""
    if request.completed_at is not None:
        raise PrivacyRequestClosed("This request is already completed.", field="request_id")
    request.completed_at = timezone.now()
    request.outcome = outcome
    if notes:
        request.notes = f"{request.notes}\n{notes}".strip()[:4_000]
    request.save(update_fields=["completed_at", "outcome", "notes"])


# --- Reads ----------------------------------------------------------------------------------


def privacy_request_list(
    *, open_only: bool = False, overdue_only: bool = False
) -> QuerySet[PrivacyRequest]:
    requests = PrivacyRequest.objects.order_by("due_at", "id")
    if open_only or overdue_only:
        requests = requests.filter(completed_at__isnull=True)
    if overdue_only:
        requests = requests.filter(due_at__lt=timezone.now())
    return requests


def privacy_request_get(*, request_id: int) -> PrivacyRequest:
    request = PrivacyRequest.objects.filter(pk=request_id).first()
    if request is None:
        raise PrivacyRequestNotFound("There is no such request.", field="request_id")
    return request
