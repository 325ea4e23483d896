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
from tenant_apps.advisors.errors import (
    AdvisorEmailTaken,
    AdvisorNotFound,
    InvalidAdvisor,
    PlanLimit,
)
from tenant_apps.advisors.models import Advisor, Favorite
from tenant_apps.notifications.services import push_request
from tenant_apps.pricing.selectors import policy_get
from tenants.bridge import licensee_current, licensee_terms_at

# A favorite coming online is news; the same advisor flapping online/offline is not.
FAVORITES_PUSH_INTERVAL = timedelta(hours=1)
PROFILE_FIELDS = ("display_name", "headline", "bio", "categories", "languages", "photo_url")


def _rate_check(rate_minor: int) -> int:
    policy = policy_get()
    currency = getattr(connection.tenant, "currency", "EUR")
    if not (policy.min_rate_minor <= rate_minor <= policy.max_rate_minor):
        raise InvalidAdvisor(
            f"The rate must be between {format_minor(policy.min_rate_minor, currency)} and "
            f"{format_minor(policy.max_rate_minor, currency)} per minute.",
            field="rate",
        )
    return rate_minor


def advisor_seat_check() -> None:
    """Refuse one advisor more than the licensee's plan includes (409 `plan_limit`, naming
    the plan, its limit and the next plan up). Call inside the transaction that adds the
    advisor: a transaction-scoped advisory lock makes concurrent additions count one by one."""
    terms = licensee_terms_at(licensee_current().pk, timezone.now(), with_upgrade=True)
    if terms is None or not terms.included_advisors:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))",
            [f"{connection.schema_name}:advisor-seats"],
        )
    seats = Advisor.objects.filter(user__erased_at__isnull=True).count()
    if seats < terms.included_advisors:
        return
    if terms.upgrade_plan_name:
        upgrade = (
            f" Upgrade to {terms.upgrade_plan_name} ({terms.upgrade_included_advisors} advisors) "
            "in your platform account's plan settings to add more."
        )
    else:
        upgrade = " Contact your account manager about a larger plan to add more."
    raise PlanLimit(
        f"Your plan {terms.plan_name} includes {terms.included_advisors} advisors and all are "
        f"in use.{upgrade}",
        field="email",
    )


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
        advisor_seat_check()
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


def advisor_update(*, advisor_id: int, rate_minor: int | None = None, **profile) -> Advisor:
    fields = _profile_clean(profile)
    if rate_minor is not None:
        _rate_check(rate_minor)
    with transaction.atomic():
        advisor = advisor_for_update(advisor_id)
        for field, value in fields.items():
            setattr(advisor, field, value)
        if rate_minor is not None:
            advisor.rate_minor_per_minute = rate_minor
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
    *, advisor_id: int, status: str | None = None, rate_minor: int | None = None, **profile
) -> Advisor:
    """The advisor's own edit of profile, rate and presence — all of it or none."""
    with transaction.atomic():
        advisor = advisor_for_update(advisor_id)
        if profile or rate_minor is not None:
            advisor = advisor_update(advisor_id=advisor_id, rate_minor=rate_minor, **profile)
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
