"""Every change to advisors: onboarding by admins, profiles, presence, favorites."""

from __future__ import annotations

from datetime import timedelta

from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branding.mail import branded_email_send
from branding.selectors import brand_current
from identity import services as identity_services
from identity.models import User
from kernel.tenant_connection import connection
from tenant_apps.advisors.errors import (
    AdvisorEmailTaken,
    AdvisorNotFound,
    InvalidAdvisor,
    PlanLimit,
)
from tenant_apps.advisors.models import (
    SESSION_KINDS,
    Advisor,
    AdvisorApplication,
    CommissionOverride,
    Favorite,
)
from tenant_apps.notifications.services import push_request
from tenant_apps.pricing.selectors import policy_get
from tenants.bridge import licensee_current, licensee_terms_at

# A favorite coming online is news; the same advisor flapping online/offline is not.
FAVORITES_PUSH_INTERVAL = timedelta(hours=1)
PROFILE_FIELDS = ("display_name", "headline", "bio", "categories", "languages", "photo_url")


def _rate_check(rate_minor: int, field: str = "rate") -> int:
    policy = policy_get()
    if not (policy.min_rate_minor <= rate_minor <= policy.max_rate_minor):
        money = brand_current().money
        raise InvalidAdvisor(
            _("The rate must be between %(min)s and %(max)s per minute.")
            % {"min": money(policy.min_rate_minor), "max": money(policy.max_rate_minor)},
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


# --- Applications ----------------------------------------------------------------------------


def application_submit(
    *,
    email: str,
    display_name: str,
    rate_minor: int,
    headline: str = "",
    bio: str = "",
    categories: list[str] | None = None,
    languages: list[str] | None = None,
) -> AdvisorApplication:
    """Someone applies to advise here, at a rate within the licensee's bounds."""
    email = (email or "").strip().lower()
    identity_services.email_check(email)
    _rate_check(rate_minor)
    fields = _profile_clean(
        {
            "display_name": display_name,
            "headline": headline,
            "bio": bio,
            "categories": categories or [],
            "languages": languages or [],
        }
    )
    with transaction.atomic():
        if User.objects.filter(email=email).exists():
            raise AdvisorEmailTaken("An account with this e-mail address exists.", field="email")
        if AdvisorApplication.objects.filter(
            email=email, status=AdvisorApplication.Status.PENDING
        ).exists():
            raise AdvisorEmailTaken(
                "An application from this e-mail address is already being reviewed.",
                field="email",
            )
        return AdvisorApplication.objects.create(
            email=email, rate_minor_per_minute=rate_minor, **fields
        )


def _pending_application(application_id: int) -> AdvisorApplication:
    application = AdvisorApplication.objects.select_for_update().filter(pk=application_id).first()
    if application is None:
        raise AdvisorNotFound("There is no such application.", field="application_id")
    if application.status != AdvisorApplication.Status.PENDING:
        raise InvalidAdvisor(
            f"This application was already {application.status}.", field="application_id"
        )
    return application


def application_approve(*, application_id: int, admin: User, origin: str) -> Advisor:
    """Make the applicant an advisor (the plan's seat limit applies); they are e-mailed an
    invitation to set their password."""
    with transaction.atomic():
        application = _pending_application(application_id)
        advisor = advisor_create(
            email=application.email,
            display_name=application.display_name,
            rate_minor=application.rate_minor_per_minute,
            admin=admin,
            origin=origin,
            headline=application.headline,
            bio=application.bio,
            categories=list(application.categories),
            languages=list(application.languages),
        )
        application.status = AdvisorApplication.Status.APPROVED
        application.advisor = advisor
        application.decided_at = timezone.now()
        application.decided_by_id = admin.pk
        application.save(update_fields=["status", "advisor", "decided_at", "decided_by_id"])
    return advisor


def application_reject(*, application_id: int, admin: User, note: str = "") -> AdvisorApplication:
    """Decline the application and tell the applicant."""
    with transaction.atomic():
        application = _pending_application(application_id)
        application.status = AdvisorApplication.Status.REJECTED
        application.decided_at = timezone.now()
        application.decided_by_id = admin.pk
        application.decision_note = (note or "").strip()[:500]
        application.save(update_fields=["status", "decided_at", "decided_by_id", "decision_note"])
        email, name = application.email, application.display_name
        transaction.on_commit(lambda: _rejection_mail(email=email, name=name))
    return application


def _rejection_mail(*, email: str, name: str) -> None:
    brand = brand_current()
    branded_email_send(
        to=[email],
        subject=_("Your application to advise on %(app)s") % {"app": brand.app_name},
        paragraphs=[
            _("Hello %(name)s,") % {"name": name},
            _(
                "Thank you for applying to advise on %(app)s. We have decided not to take "
                "your application further at this time."
            )
            % {"app": brand.app_name},
        ],
        brand=brand,
    )


# --- Commission overrides ------------------------------------------------------------------


def commission_set(
    *,
    advisor_id: int,
    fixed_bps: int | None = None,
    tiers: list[tuple[int, int]] | None = None,
    admin: User,
) -> CommissionOverride | None:
    """Give an advisor their own share of each call: fixed, or tiers by this month's talk
    minutes; neither removes the override (the licensee-wide share applies again). A share
    may not cut into Callrix's fee."""
    advisor = Advisor.objects.filter(pk=advisor_id).first()
    if advisor is None:
        raise AdvisorNotFound("There is no such advisor.", field="advisor_id")
    if fixed_bps is None and not tiers:
        CommissionOverride.objects.filter(advisor=advisor).delete()
        return None
    if fixed_bps is not None and tiers:
        raise InvalidAdvisor("Give a fixed share or tiers, not both.", field="tiers")
    ceiling = 10_000 - policy_get().callrix_fee_bps
    shares = [fixed_bps] if fixed_bps is not None else [bps for _, bps in tiers or []]
    if any(not 0 <= bps <= ceiling for bps in shares):
        raise InvalidAdvisor(
            f"An advisor's share must be between 0 and {ceiling / 100:g} %.", field="commission"
        )
    steps = sorted(tiers or [])
    if steps and len({minutes for minutes, _ in steps}) != len(steps):
        raise InvalidAdvisor("Each tier needs its own number of minutes.", field="tiers")
    if any(minutes < 0 for minutes, _ in steps):
        raise InvalidAdvisor("Tier minutes cannot be negative.", field="tiers")
    override, _created = CommissionOverride.objects.update_or_create(
        advisor=advisor,
        defaults={
            "fixed_bps": fixed_bps,
            "tiers": [[minutes, bps] for minutes, bps in steps],
            "set_by_id": admin.pk,
        },
    )
    return override
