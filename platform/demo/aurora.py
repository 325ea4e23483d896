"""Sample data for `callrix demo`: the licensee Aurora Psychics and people to log in as."""

from __future__ import annotations

import io
import json
import os
import time
from dataclasses import dataclass
from datetime import time as dt_time

from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context, tenant_context

from branding import selectors as brand_selectors
from branding import services as brand_services
from callrix import embedded
from demo import offline
from kernel import crypto
from kernel.errors import DomainError
from kernel.tenant_connection import connection
from shared_apps.billing import services as billing_services
from shared_apps.billing import stripe_gateway as billing_gateway
from shared_apps.billing.models import LicenseeTerms, Plan, Subscription
from tenant_apps.advisors.models import Advisor
from tenant_apps.appointments import services as appointment_services
from tenant_apps.appointments.models import AdvisorSchedule
from tenant_apps.calls import services as call_services
from tenant_apps.calls.models import Call
from tenant_apps.payments import selectors as payment_selectors
from tenant_apps.payments import services as payment_services
from tenant_apps.payments import stripe_gateway
from tenant_apps.payments.models import TopUpPackage
from tenant_apps.promotions.models import Promotion
from tenant_apps.promotions.services import promotion_create
from tenants import selectors, services

DEMO_SLUG = "aurora"
DEMO_NAME = "Aurora Psychics"
DEMO_PASSWORD = "aurora-demo-2026"
STAFF_EMAIL = "staff@callrix.test"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    where: str


DEMO_PEOPLE = [
    ("owner", "owner@aurora.test", "Aurora Owner"),
    ("admin", "admin@aurora.test", "Aurora Admin"),
    ("end_user", "caller@aurora.test", "Casey Caller"),
    ("end_user", "sam@aurora.test", "Sam Seeker"),
]


DEMO_PACKAGES = [
    # Names, not amounts: the wallet shows the amount and bonus beside the name.
    ("starter", "Starter", 2_000, 200),
    ("regular", "Regular", 5_000, 750),
]
DEMO_CREDIT_MINOR = 2_500
# Kinds of session beyond voice, with their rates per minute (voice is the rate below).
DEMO_SESSION_RATES = {
    "luna@aurora.test": {"voice": 200, "chat": 150, "video": 300},
    "orion@aurora.test": {"voice": 300, "chat": 200},
}
# (e-mail, name, headline, rate per minute, categories, languages, online)
DEMO_ADVISORS = [
    (
        "luna@aurora.test",
        "Luna Starling",
        "Tarot and clarity for the week ahead",
        200,
        ["tarot", "love"],
        ["en", "de"],
        True,
    ),
    (
        "orion@aurora.test",
        "Orion Vale",
        "Career crossroads, astrology",
        300,
        ["astrology", "career"],
        ["en"],
        True,
    ),
    (
        "mira@aurora.test",
        "Mira Solis",
        "Dream reading and intuition",
        150,
        ["dreams"],
        ["en", "es"],
        False,
    ),
    (
        "sage@aurora.test",
        "Sage Holloway",
        "Relationships, calmly",
        250,
        ["love", "family"],
        ["de"],
        False,
    ),
]
SANDBOX_KEY_PREFIX = "sk_test_sandbox_"
# Plans on offer at the demo's public sign-up page: (code, name, fee, advisors, minutes,
# Callrix's revenue share in basis points, trial days).
# code, name, monthly fee, advisors, minutes included, Callrix fee (bps), trial days, and the
# price of each minute past the included ones (minor units).
DEMO_PLANS = [
    ("starter", "Starter (14-day trial)", 4_900, 5, 2_000, 1_500, 14, 5),
    ("growth", "Growth", 14_900, 25, 10_000, 1_000, 0, 3),
]
DEMO_BRAND = {
    "app_name": DEMO_NAME,
    "primary_color": "#4b2a7b",
    "accent_color": "#a0306e",
    "support_email": "help@aurora.test",
    "legal_entity_name": "Aurora Psychics Ltd",
    "legal_address": "12 Starlight Lane\nLondon EC1A 1AA\nUnited Kingdom",
    "privacy_policy_url": "https://aurora.example/privacy",
    "terms_url": "https://aurora.example/terms",
    "default_language": "en",
    "currency_display": "symbol",
    # A London company: its English pages read dates as the UK does (06/12/2026, 14:32).
    "region": "GB",
    "time_zone": "Europe/London",
}


def demo_uses_stripe_sandbox(*, licensee) -> bool:
    """The sandbox stands in unless Stripe is configured for real: an explicit
    STRIPE_API_BASE, or real keys the demo licensee's owner has entered."""
    if os.environ.get("STRIPE_API_BASE"):
        return False
    with tenant_context(licensee):
        row = payment_selectors.stripe_connection_get()
        if row is None:
            return True
        key = crypto.decrypt(row.secret_key_encrypted)
    return key.startswith(SANDBOX_KEY_PREFIX)


def demo_stripe_connect(*, licensee, sandbox_url: str, web_origin: str) -> None:
    """Connect the demo licensee to the Stripe sandbox unless its keys already work there."""
    with tenant_context(licensee):
        row = payment_selectors.stripe_connection_get()
        if row is not None and row.connect_webhook_secret_encrypted:
            # Sandbox keys from an earlier run still work if the sandbox kept its state.
            try:
                stripe_gateway.account_fetch(secret_key=crypto.decrypt(row.secret_key_encrypted))
                return
            except DomainError:
                pass  # e.g. the sandbox lost its state: connect a fresh sandbox account
        creds = offline.post_json(
            f"{sandbox_url}/_sandbox/accounts",
            {
                "webhook_url": f"{web_origin}/webhooks/stripe",
                "webhook_host": f"{licensee.slug}.localhost",
                "connect_webhook_url": f"{web_origin}/webhooks/stripe/connect",
                "connect_webhook_host": f"{licensee.slug}.localhost",
                "display_name": licensee.display_name,
            },
        )
        owner = get_user_model().objects.get(role="owner")
        payment_services.stripe_connect(
            secret_key=creds["secret_key"],
            publishable_key=creds["publishable_key"],
            webhook_secret=creds["webhook_secret"],
            connect_webhook_secret=creds["connect_webhook_secret"],
            admin=owner,
        )


def _sandbox_key_works(sandbox_url: str, secret_key: str) -> bool:
    try:
        offline.get_json(f"{sandbox_url}/v1/account", bearer=secret_key)
        return True
    except OSError:  # refused, unreachable, or an HTTP error (urllib's are OSErrors)
        return False


def demo_callrix_billing(*, sandbox_url: str, web_origin: str) -> dict[str, str]:
    """Callrix's own Stripe account at the sandbox, which bills licensees who sign up on the
    public site; its keys are kept under .callrix/ so restarts reuse the same account."""
    saved = embedded.home() / "callrix-stripe.json"
    try:
        credentials = json.loads(saved.read_text())
        if _sandbox_key_works(sandbox_url, credentials["secret_key"]):
            return credentials
    except (OSError, ValueError, KeyError):
        pass
    credentials = offline.post_json(
        f"{sandbox_url}/_sandbox/accounts",
        {
            "webhook_url": f"{web_origin}/webhooks/stripe",
            "webhook_host": "localhost",
            "display_name": "Callrix",
        },
    )
    saved.write_text(json.dumps(credentials))
    return credentials


def demo_callrix_subscription(*, licensee) -> None:
    """Aurora's contract on Callrix's own (sandbox) Stripe account: the Starter plan's trial
    subscription, as a sign-up makes it, so its owner's "Plan and invoices" page shows the
    billing period, the included minutes and what minutes past them would cost."""
    with schema_context("public"):
        if Subscription.objects.filter(licensee_id=licensee.pk).exists():
            return
        plan = Plan.objects.get(code="starter")
        customer_id = billing_gateway.customer_create(
            company=licensee.display_name,
            email="owner@aurora.test",
            phone="",
            address={"line1": "1 Harbour Street", "city": "Limassol", "country": "CY"},
            metadata={"slug": licensee.slug},
            idempotency_key=f"demo-customer-{licensee.slug}",
        )
        started = billing_gateway.subscription_create(
            customer_id=customer_id,
            price_id=billing_gateway.plan_price_id(
                plan_code=plan.code,
                plan_name=plan.name,
                monthly_fee_minor=plan.monthly_fee_minor,
                currency=plan.currency,
            ),
            trial_days=plan.trial_days,
            metadata={"slug": licensee.slug},
            idempotency_key=f"demo-subscription-{licensee.slug}",
        )
        subscription = Subscription.objects.create(
            plan=plan,
            slug=licensee.slug,
            company=licensee.display_name,
            licensee=licensee,
            stripe_customer_id=customer_id,
            stripe_subscription_id=started.id,
            status=started.status,
            current_period_start=started.current_period_start,
            current_period_end=started.current_period_end,
            trial_end=started.trial_end,
        )
        if started.latest_invoice is not None:
            billing_services.invoice_upsert(subscription=subscription, data=started.latest_invoice)


def demo_plans_ensure() -> None:
    with schema_context("public"):
        for code, name, fee, advisors, minutes, share, trial, overage in DEMO_PLANS:
            Plan.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "monthly_fee_minor": fee,
                    "currency": "EUR",
                    "included_advisors": advisors,
                    "included_minutes": minutes,
                    "revenue_share_bps": share,
                    "trial_days": trial,
                    "overage_minor_per_minute": overage,
                },
            )


def _demo_terms(licensee) -> None:
    """Aurora rents the Starter plan: 5 advisors included, its fee on every call (staff move
    it to Growth in the admin to see the next call's split change)."""
    with schema_context("public"):
        if not LicenseeTerms.objects.filter(licensee_id=licensee.pk).exists():
            billing_services.terms_record(
                licensee_id=licensee.pk,
                plan=Plan.objects.get(code="starter"),
                reason=LicenseeTerms.Reason.SIGNUP,
            )


def _demo_advisors(licensee) -> None:
    with tenant_context(licensee):
        for email, name, headline, rate, categories, languages, online in DEMO_ADVISORS:
            if Advisor.objects.filter(user__email=email).exists():
                continue
            user = get_user_model().objects.create_user(
                email, DEMO_PASSWORD, role="advisor", display_name=name
            )
            rates = DEMO_SESSION_RATES.get(email, {"voice": rate})
            Advisor.objects.create(
                user=user,
                display_name=name,
                headline=headline,
                rate_minor_per_minute=rate,
                kinds=list(rates),
                chat_rate_minor_per_minute=rates.get("chat"),
                video_rate_minor_per_minute=rates.get("video"),
                categories=categories,
                languages=languages,
                status=Advisor.Status.ONLINE if online else Advisor.Status.OFFLINE,
                bio=f"{name} has been reading for Aurora Psychics for years.",
            )


def _demo_sessions(licensee) -> None:
    """Luna's weekly hours for bookings (every day 09:00-18:00, Berlin time) and the
    WELCOME10 code (10 % on a top-up, once per person)."""
    with tenant_context(licensee):
        luna = Advisor.objects.filter(user__email="luna@aurora.test").first()
        if luna is not None and not AdvisorSchedule.objects.filter(advisor=luna).exists():
            appointment_services.availability_set(
                advisor=luna,
                time_zone="Europe/Berlin",
                windows=[(day, dt_time(9, 0), dt_time(18, 0)) for day in range(7)],
            )
        if not Promotion.objects.filter(code="WELCOME10").exists():
            promotion_create(code="WELCOME10", kind="topup_percent", percent=10)


def _demo_money(licensee) -> None:
    """Top-up packages, and credit for the demo callers (granted once, by key)."""
    User = get_user_model()
    with tenant_context(licensee):
        for code, name, amount, bonus in DEMO_PACKAGES:
            if not TopUpPackage.objects.filter(code=code).exists():
                payment_services.topup_package_create(
                    code=code, name=name, amount_minor=amount, bonus_minor=bonus
                )
        owner = User.objects.get(role="owner")
        for caller in User.objects.filter(role="end_user", email__endswith="@aurora.test"):
            payment_services.credit_grant(
                user_id=caller.pk,
                amount_minor=DEMO_CREDIT_MINOR,
                reason="Demo welcome credit",
                admin=owner,
                idempotency_key=f"demo-welcome-{caller.pk}",
            )


def _demo_artwork(size: tuple[int, int], *, wordmark: bool) -> bytes:
    """Aurora's moon mark (and name, for the logo), drawn here so the demo ships no binaries."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = size
    image = Image.new("RGBA", size, (0, 0, 0, 0) if wordmark else DEMO_BRAND["primary_color"])
    draw = ImageDraw.Draw(image)
    mark = height if wordmark else width
    moon = (int(mark * 0.2), int(mark * 0.2), int(mark * 0.8), int(mark * 0.8))
    draw.ellipse(moon, fill="#f5d98b")
    shift = int(mark * 0.16)
    cutout = (moon[0] + shift, moon[1] - shift // 2, moon[2] + shift, moon[3] - shift // 2)
    draw.ellipse(cutout, fill=(0, 0, 0, 0) if wordmark else DEMO_BRAND["primary_color"])
    if wordmark:
        font = ImageFont.load_default(size=int(height * 0.42))
        draw.text((mark, height // 2), DEMO_NAME, font=font, fill="#ffffff", anchor="lm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _demo_brand(licensee) -> None:
    """Aurora's brand, set once: a later edit in the dashboard is kept across restarts."""
    if brand_selectors.brand_row_get(licensee_id=licensee.pk) is not None:
        return
    brand_services.brand_update(licensee=licensee, **DEMO_BRAND)
    logo = _demo_artwork((480, 120), wordmark=True)
    brand_services.brand_image_set(licensee=licensee, kind="logo", content=logo)
    icon = _demo_artwork((512, 512), wordmark=False)
    brand_services.brand_image_set(licensee=licensee, kind="icon", content=icon)


# (caller, advisor, seconds of talk): sample calls so the dashboard's charts show real calls.
DEMO_CALLS = [
    ("caller@aurora.test", "luna@aurora.test", 95),
    ("sam@aurora.test", "orion@aurora.test", 240),
]


def demo_calls_play(*, licensee, livekit_url: str) -> int:
    """Play the sample calls once (when the licensee has no live calls yet): requested and accepted
    through the call services, then talked in the LiveKit sandbox, whose signed webhooks let
    the running worker bill and settle them as any call. Returns how many were played."""
    User = get_user_model()
    plays = []
    with tenant_context(licensee):
        if Call.objects.exclude(end_reason="history").exists():  # history: demo_history
            return 0
        for caller_email, advisor_email, seconds in DEMO_CALLS:
            caller = User.objects.get(email=caller_email)
            advisor = Advisor.objects.select_related("user").get(user__email=advisor_email)
            call = call_services.call_request(caller=caller, advisor_id=advisor.pk)
            call_services.call_accept(user=advisor.user, call_id=call.pk)
            call.refresh_from_db()
            parties = [
                call_services.identity_of(caller.pk),
                call_services.identity_of(advisor.user_id),
            ]
            plays.append((call.room_name, parties, seconds))
    now = time.time()
    for room_name, parties, seconds in plays:
        room = f"{livekit_url}/_sandbox/rooms/{room_name}"
        for identity in parties:
            offline.post_json(f"{room}/join", {"identity": identity, "at": now})
        for identity in parties:
            offline.post_json(f"{room}/leave", {"identity": identity, "at": now + seconds})
        offline.post_json(f"{room}/finish")
    return len(plays)


def demo_ensure() -> list[DemoLogin]:
    """Provision the demo licensee, its people and their credit if missing; safe to run on
    every start."""
    User = get_user_model()
    licensee = selectors.licensee_get_by_slug(slug=DEMO_SLUG)
    if licensee is None:
        licensee = services.licensee_provision(
            slug=DEMO_SLUG,
            display_name=DEMO_NAME,
            owner_email=DEMO_PEOPLE[0][1],
            owner_password=DEMO_PASSWORD,
            status="active",
        ).licensee
    with schema_context(licensee.schema_name):
        for role, email, name in DEMO_PEOPLE:
            if not User.objects.filter(email=email).exists():
                User.objects.create_user(email, DEMO_PASSWORD, role=role, display_name=name)
    _demo_brand(licensee)
    _demo_money(licensee)
    _demo_advisors(licensee)
    _demo_sessions(licensee)
    connection.set_schema_to_public()
    demo_plans_ensure()
    _demo_terms(licensee)
    with schema_context("public"):
        if not User.objects.filter(email=STAFF_EMAIL).exists():
            User.objects.create_superuser(STAFF_EMAIL, DEMO_PASSWORD, display_name="Callrix Staff")
    logins = [DemoLogin(role, email, DEMO_PASSWORD, DEMO_SLUG) for role, email, _ in DEMO_PEOPLE]
    logins += [
        DemoLogin("advisor", advisor[0], DEMO_PASSWORD, DEMO_SLUG) for advisor in DEMO_ADVISORS
    ]
    logins.append(DemoLogin("staff", STAFF_EMAIL, DEMO_PASSWORD, "public"))
    return logins
