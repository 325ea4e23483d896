"""Every change to advisors: onboarding by admins, profiles, presence, favorites."""

from __future__ import annotations

from datetime import timedelta

from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from identity import services as identity_services
from identity.models import User
from kernel.money import format_minor
from kernel.tenant_connection import connection
from tenant_apps.advisors.errors import AdvisorEmailTaken, AdvisorNotFound, InvalidAdvisor
from tenant_apps.advisors.models import SESSION_KINDS, Advisor, Favorite
from tenant_apps.notifications.services import push_request
from tenant_apps.pricing.selectors import policy_get

# A favorite coming online is news; the same advisor flapping online/offline is not.
FAVORITES_PUSH_INTERVAL = timedelta(hours=1)
PROFILE_FIELDS = ("display_name", "headline", "bio", "categories", "languages", "photo_url")


def _rate_check(rate_minor: int, field: str = "rate") -> int:
    policy = policy_get()
    currency = getattr(connection.tenant, "currency", "EUR")
    if not (policy.min_rate_minor <= rate_minor <= policy.max_rate_minor):
        raise InvalidAdvisor(
            f"The rate must be between {format_minor(policy.min_rate_minor, currency)} and "
            f"{format_minor(policy.max_rate_minor, currency)} per minute.",
            field=field,
        )
    return rate_minor


def _rates_clean(rates: dict[str, int], voice_rate: int | None) -> dict[str, int]:
    """`rates` names every kind of session offered, each with its per-minute rate."""
    if not rates:
        raise InvalidAdvisor(_("Offer at least one kind of session."), field="rates")
    for kind, rate in rates.items():
        if kind not in SESSION_KINDS:
            raise InvalidAdvisor(_("Unknown kind of session: %s.") % kind, field="rates")
        _rate_check(rate, field="rates")
    if voice_rate is not None and rates.get("voice", voice_rate) != voice_rate:
        raise InvalidAdvisor(_("The voice rate is given twice, differently."), field="rate")
    return rates


def _rates_apply(advisor: Advisor, rates: dict[str, int]) -> None:
    advisor.kinds = [kind for kind in SESSION_KINDS if kind in rates]
    # A withdrawn kind keeps its last rate, so offering it again starts from there.
    if "voice" in rates:
        advisor.rate_minor_per_minute = rates["voice"]
    if "chat" in rates:
        advisor.chat_rate_minor_per_minute = rates["chat"]
    if "video" in rates:
        advisor.video_rate_minor_per_minute = rates["video"]


def _profile_clean(changes: dict) -> dict:
    cleaned = {}
    for field, value in changes.items():
        if field not in PROFILE_FIELDS:
            raise InvalidAdvisor(f"Unknown profile field: {field}.", field=field)
        if field == "display_name":
            value = (value or "").strip()
            if not value:
                raise InvalidAdvisor("A display name is required.", field="display_name")
        elif field in ("categories", "languages"):
            value = sorted({str(item).strip().lower() for item in value if str(item).strip()})
        elif field == "photo_url" and value:
            try:
                URLValidator(schemes=["https", "http"])(value)
            except Exception:
                raise InvalidAdvisor(
                    "The photo must be a web address.", field="photo_url"
                ) from None
        cleaned[field] = value
    return cleaned


def advisor_create(
    *,
    email: str,
    display_name: str,
    rate_minor: int,
    admin: User,
    origin: str,
    password: str | None = None,
    **profile,
) -> Advisor:
    """Add an advisor: an account with the advisor role and a profile. Without a password the
    advisor gets an invitation e-mail with a one-time link to set one."""
    email = (email or "").strip().lower()
    identity_services.email_check(email)
    _rate_check(rate_minor)
    fields = _profile_clean({"display_name": display_name, **profile})
    if password is not None:
        identity_services.password_check(password, User(email=email), "password")
    with transaction.atomic():
        if User.objects.filter(email=email).exists():
            raise AdvisorEmailTaken("An account with this e-mail address exists.", field="email")
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email, password, role=User.Role.ADVISOR, display_name=fields["display_name"]
                )
        except IntegrityError:
            raise AdvisorEmailTaken(
                "An account with this e-mail address exists.", field="email"
            ) from None
        advisor = Advisor.objects.create(user=user, rate_minor_per_minute=rate_minor, **fields)
        if password is None:
            identity_services.invitation_send(
                user=user,
                invited_by=admin,
                origin=origin,
                subject=_("You are invited to advise on %(app)s"),
                paragraph=_("%(admin)s added you as an advisor on %(app)s."),
            )
    return advisor


def advisor_for_update(advisor_id: int) -> Advisor:
    advisor = Advisor.objects.select_for_update().filter(pk=advisor_id).first()
    if advisor is None:
        raise AdvisorNotFound("There is no such advisor.", field="advisor_id")
    return advisor


def advisor_update(
    *,
    advisor_id: int,
    rate_minor: int | None = None,
    rates: dict[str, int] | None = None,
    **profile,
) -> Advisor:
    fields = _profile_clean(profile)
    if rate_minor is not None:
        _rate_check(rate_minor)
    if rates is not None:
        _rates_clean(rates, rate_minor)
    with transaction.atomic():
        advisor = advisor_for_update(advisor_id)
        for field, value in fields.items():
            setattr(advisor, field, value)
        if rate_minor is not None:
            advisor.rate_minor_per_minute = rate_minor
        if rates is not None:
            _rates_apply(advisor, rates)
        advisor.save()
        if "display_name" in fields:
            User.objects.filter(pk=advisor.user_id).update(display_name=fields["display_name"])
    return advisor


def advisor_set_presence(*, advisor_id: int, status: str) -> Advisor:
    """The advisor goes online or offline (busy is the platform's to set, during calls)."""
    if status not in (Advisor.Status.ONLINE, Advisor.Status.OFFLINE):
        raise InvalidAdvisor("Choose online or offline.", field="status")
    with transaction.atomic():
        advisor = advisor_for_update(advisor_id)
        if advisor.status == Advisor.Status.BUSY:
            raise InvalidAdvisor(
                "You are in a call; your status changes when it ends.", field="status"
            )
        if status == Advisor.Status.ONLINE and advisor.suspended:
            raise InvalidAdvisor("Your account is suspended.", field="status")
        went_online = advisor.status != status and status == Advisor.Status.ONLINE
        advisor.status = status
        if went_online:
            advisor.missed_in_row = 0
        advisor.save(update_fields=["status", "missed_in_row"])
        if went_online:
            _favorites_notify(advisor)
    return advisor


def advisor_self_update(
    *,
    advisor_id: int,
    status: str | None = None,
    rate_minor: int | None = None,
    rates: dict[str, int] | None = None,
    **profile,
) -> Advisor:
    """The advisor's own edit of profile, rates and presence — all of it or none."""
    with transaction.atomic():
        advisor = advisor_for_update(advisor_id)
        if profile or rate_minor is not None or rates is not None:
            advisor = advisor_update(
                advisor_id=advisor_id, rate_minor=rate_minor, rates=rates, **profile
            )
        if status is not None:
            advisor = advisor_set_presence(advisor_id=advisor_id, status=status)
    return advisor


def _favorites_notify(advisor: Advisor) -> None:
    now = timezone.now()
    last = advisor.favorites_notified_at
    if last is not None and now - last < FAVORITES_PUSH_INTERVAL:
        return
    fans = list(
        Favorite.objects.filter(
            advisor=advisor,
            user__is_active=True,
            user__processing_restricted=False,  # GDPR Art. 18 and 21: see MARKETING_KINDS
            user__objects_to_marketing=False,
        ).values_list("user_id", flat=True)
    )
    advisor.favorites_notified_at = now
    advisor.save(update_fields=["favorites_notified_at"])
    if fans:
        push_request(
            user_ids=fans,
            kind="favorite_online",
            data={"advisor_id": advisor.pk},
            title=f"{advisor.display_name} is online",
            body="Call now while they are available.",
        )


def advisor_suspend(*, advisor_id: int, reason: str) -> Advisor:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidAdvisor("Say why the advisor is suspended.", field="reason")
    with transaction.atomic():
        advisor = advisor_for_update(advisor_id)
        advisor.suspended = True
        advisor.suspended_reason = reason[:300]
        if advisor.status == Advisor.Status.ONLINE:
            advisor.status = Advisor.Status.OFFLINE
        advisor.save(update_fields=["suspended", "suspended_reason", "status"])
    return advisor


def advisor_reinstate(*, advisor_id: int) -> Advisor:
    with transaction.atomic():
        advisor = advisor_for_update(advisor_id)
        advisor.suspended = False
        advisor.suspended_reason = ""
        advisor.save(update_fields=["suspended", "suspended_reason"])
    return advisor


def favorite_add(*, user: User, advisor_id: int) -> None:
    if not Advisor.objects.filter(pk=advisor_id, suspended=False).exists():
        raise AdvisorNotFound("There is no such advisor.", field="advisor_id")
    Favorite.objects.get_or_create(user=user, advisor_id=advisor_id)


def favorite_remove(*, user: User, advisor_id: int) -> None:
    Favorite.objects.filter(user=user, advisor_id=advisor_id).delete()
