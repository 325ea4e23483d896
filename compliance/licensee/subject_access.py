"""An end user's own data, as structured JSON (GDPR Art. 15 and 20) — the licensee is the
controller; this is the tool it gives its users. Only what is about the caller: the advisor
on their calls appears by display name, never by e-mail or account."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from compliance.licensee import privacy_requests
from compliance.licensee.errors import SubjectNotFound
from compliance.licensee.models import PrivacyRequest
from identity.models import ConsentRecord, User
from tenant_apps.advisors.models import Favorite
from tenant_apps.appointments.models import Appointment
from tenant_apps.calls.models import Call, ChatMessage, Review, SpendingCap
from tenant_apps.notifications.models import Device, PushLog
from tenant_apps.payments.models import CreditGrant, TopUp
from tenant_apps.promotions.models import PromotionUse
from tenant_apps.wallets import selectors as wallet_selectors
from tenants.bridge import licensee_current


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def subject_export(*, user: User) -> dict:
    balance = wallet_selectors.wallet_balance_get(user_id=user.pk)
    cap = SpendingCap.objects.filter(user=user).first()
    return {
        "generated_at": timezone.now().isoformat(),
        "controller": licensee_current().display_name,
        "profile": {
            "email": user.email,
            "display_name": user.display_name,
            "role": user.role,
            "birth_date": _iso(user.birth_date),
            "email_verified_at": _iso(user.email_verified_at),
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        },
        "processing": processing_choices_get(user=user),
        "consents": [
            {
                "purpose": c.purpose,
                "granted": c.granted,
                "recorded_at": _iso(c.recorded_at),
                "source": c.source,
            }
            for c in ConsentRecord.objects.filter(user=user).order_by("recorded_at", "id")
        ],
        "devices": [
            {
                "platform": d.platform,
                "token": d.token,
                "registered_at": _iso(d.created_at),
                "last_seen_at": _iso(d.last_seen_at),
            }
            for d in Device.objects.filter(user=user).order_by("id")
        ],
        "wallet": {
            "currency": balance.currency,
            "available": balance.available_minor,
            "held": balance.held_minor,
            "owed": balance.owed_minor,
            "lines": [
                {
                    "at": _iso(e.created_at),
                    "amount": e.amount_minor,
                    "account": e.account.kind,
                    "description": e.transaction.description,
                }
                for e in wallet_selectors.wallet_entries(user_id=user.pk).order_by("id")
            ],
        },
        "topups": [
            {
                "id": t.pk,
                "amount": t.amount_minor,
                "bonus": t.bonus_minor,
                "currency": t.currency,
                "status": t.status,
                "refunded": t.refunded_minor,
                "created_at": _iso(t.created_at),
                "paid_at": _iso(t.succeeded_at),
            }
            for t in TopUp.objects.filter(user=user).order_by("id")
        ],
        "credits": [
            {"amount": g.amount_minor, "reason": g.reason, "at": _iso(g.created_at)}
            for g in CreditGrant.objects.filter(user=user).order_by("id")
        ],
        "calls": [
            {
                "id": c.pk,
                "kind": c.kind,
                "advisor": c.advisor.display_name,
                "status": c.status,
                "talk_seconds": c.talk_seconds,
                "cost": c.cost_minor,
                "currency": c.currency,
                "rate_per_minute": c.rate_minor_per_minute,
                "created_at": _iso(c.created_at),
                "ended_at": _iso(c.ended_at),
            }
            for c in Call.objects.filter(caller=user).select_related("advisor").order_by("id")
        ],
        # A caller's chat transcripts whole (they are about them); an advisor's own messages.
        "chat_messages": [
            {
                "call_id": m.call_id,
                "from": "me" if m.sender_id == user.pk else m.call.advisor.display_name,
                "text": m.text,
                "at": _iso(m.created_at),
                "read_at": _iso(m.read_at),
            }
            for m in ChatMessage.objects.filter(Q(call__caller=user) | Q(sender=user))
            .select_related("call__advisor")
            .order_by("id")
        ],
        "appointments": [
            {
                "id": a.pk,
                "advisor": a.advisor.display_name,
                "kind": a.kind,
                "starts_at": _iso(a.starts_at),
                "ends_at": _iso(a.ends_at),
                "status": a.status,
            }
            for a in Appointment.objects.filter(caller=user)
            .select_related("advisor")
            .order_by("id")
        ],
        "promotion_codes": [
            {
                "code": u.promotion.code,
                "bonus": u.bonus_minor,
                "free_seconds": u.free_seconds,
                "status": u.status,
                "at": _iso(u.created_at),
            }
            for u in PromotionUse.objects.filter(user=user)
            .select_related("promotion")
            .order_by("id")
        ],
        "reviews": [
            {
                "call_id": r.call_id,
                "rating": r.rating,
                "comment": r.comment,
                "at": _iso(r.created_at),
            }
            for r in Review.objects.filter(caller=user).order_by("id")
        ],
        "favorites": [
            f.advisor.display_name
            for f in Favorite.objects.filter(user=user).select_related("advisor").order_by("id")
        ],
        "spending_cap": {"monthly_limit": cap.monthly_limit_minor} if cap else None,
        "push_log": [
            {"kind": p.kind, "status": p.status, "at": _iso(p.created_at)}
            for p in PushLog.objects.filter(user=user).order_by("id")
        ],
    }


def consents_current(*, user: User) -> dict[str, bool]:
    """Each purpose's latest decision (no record means no consent: never pre-ticked)."""
    current = {purpose: False for purpose in ConsentRecord.Purpose.values}
    for record in ConsentRecord.objects.filter(user=user).order_by("recorded_at", "id"):
        current[record.purpose] = record.granted
    return current


def consents_set(*, user: User, choices: dict[str, bool], source: str = "api") -> dict[str, bool]:
    """Record each change (a grant or a withdrawal) with its time; unchanged choices add
    nothing, so the history shows decisions, not repeated saves."""
    current = consents_current(user=user)
    for purpose, granted in choices.items():
        if current.get(purpose) != granted:
            ConsentRecord.objects.create(user=user, purpose=purpose, granted=granted, source=source)
    return consents_current(user=user)


def subject_export_self(*, user: User) -> dict:
    """The person downloads their own data; the licensee's request log records it as an
    access request answered at once."""
    with transaction.atomic():
        data = subject_export(user=user)
        privacy_requests.privacy_request_log(
            type=PrivacyRequest.Type.ACCESS,
            channel=PrivacyRequest.Channel.SELF_SERVICE,
            subject=user,
            notes="Downloaded their data (GET /api/v1/me/export).",
            outcome=PrivacyRequest.Outcome.FULFILLED,
        )
    return data


# Art. 18 (restriction) and Art. 21 (objection): field -> (request type, set, lifted)
_CHOICES = {
    "processing_restricted": (
        PrivacyRequest.Type.RESTRICTION,
        "Restricted the processing of their data to keeping it and serving their account.",
        "Lifted the restriction of processing.",
    ),
    "objects_to_marketing": (
        PrivacyRequest.Type.OBJECTION,
        "Objected to direct marketing.",
        "Withdrew their objection to direct marketing.",
    ),
    "objects_to_analytics": (
        PrivacyRequest.Type.OBJECTION,
        "Objected to analytics about their use of the platform.",
        "Withdrew their objection to analytics.",
    ),
}


def processing_choices_get(*, user: User) -> dict[str, bool]:
    return {field: getattr(user, field) for field in _CHOICES}


def processing_choices_set(*, user: User, **choices: bool | None) -> dict[str, bool]:
    """Set the person's restriction and objections; each change takes effect at once and is
    logged in the licensee's request log."""
    unknown = set(choices) - set(_CHOICES)
    if unknown:
        raise ValueError(f"unknown processing choices: {sorted(unknown)}")
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        changed = []
        for field, value in choices.items():
            if value is None or getattr(locked, field) == value:
                continue
            setattr(locked, field, value)
            changed.append(field)
            kind, set_note, lifted_note = _CHOICES[field]
            privacy_requests.privacy_request_log(
                type=kind,
                channel=PrivacyRequest.Channel.SELF_SERVICE,
                subject=locked,
                notes=set_note if value else lifted_note,
                outcome=PrivacyRequest.Outcome.FULFILLED,
            )
        if changed:
            locked.save(update_fields=changed)
    for field in changed:
        setattr(user, field, getattr(locked, field))
    return processing_choices_get(user=locked)


def privacy_request_export(*, request_id: int) -> dict:
    """The subject's data for a request received by e-mail, for the admin to send them."""
    request = privacy_requests.privacy_request_get(request_id=request_id)
    if request.subject_id is None:
        raise SubjectNotFound(
            "Nobody here has the address of this request: there is no data to send.",
            field="request_id",
        )
    return subject_export(user=User.objects.get(pk=request.subject_id))
