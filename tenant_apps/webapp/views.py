"""The licensee's own web app on its hosts: the end users' pages (advisors, favorites,
wallet, calls, privacy centre) and the advisors' console. Pages read through selectors; every
change is made by the JSON API (same-origin session + CSRF, see identity.auth) from the small
bundled scripts, so no business rule lives here."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import SESSION_KEY, login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from branding.selectors import brand_current
from identity import selectors as identity_selectors
from identity import services as identity_services
from identity.auth import session_user
from identity.models import ConsentRecord, User
from kernel.addresses import canonical_origin
from kernel.errors import DomainError
from kernel.money import InvalidMoney, exponent, major_text, parse_major
from kernel.security import csp_allow, livekit_origins
from kernel.throttling import LicenseeRateThrottle
from tenant_apps.advisors import selectors as advisor_selectors
from tenant_apps.advisors import services as advisor_services
from tenant_apps.appointments import selectors as appointment_selectors
from tenant_apps.calls import livekit_gateway
from tenant_apps.calls import selectors as call_selectors
from tenant_apps.calls.models import Call
from tenant_apps.calls.services import REVIEW_MIN_TALK_SECONDS
from tenant_apps.payments import selectors as payment_selectors
from tenant_apps.payments import stripe_gateway
from tenant_apps.payouts import selectors as payout_selectors
from tenant_apps.payouts import services as payout_services
from tenant_apps.pricing.selectors import policy_get
from tenant_apps.wallets import history as wallet_history
from tenant_apps.wallets import selectors as wallet_selectors
from tenant_apps.webapp.forms import AdvisorApplicationForm, DirectoryFilterForm, RegisterForm
from tenants.bridge import licensee_current

END_USER = User.Role.END_USER
ADVISOR = User.Role.ADVISOR
# Stripe.js talks to Stripe's API from the page (Stripe's documented CSP).
STRIPE_API_ORIGINS = ["https://api.stripe.com"]


def _signed_in(request: HttpRequest) -> User | None:
    return session_user(request, csrf=False)


def role_page(*roles: str) -> Callable:
    """A page for signed-in users of these roles: others are sent to sign in, or refused."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = _signed_in(request)
            if user is None:
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{settings.LOGIN_URL}?{query}")
            if user.role not in roles:
                return render(request, "webapp/forbidden.html", status=403)
            return view(request, user, *args, **kwargs)

        return never_cache(wrapper)

    return decorate


def _api_messages() -> dict[str, str]:
    """What the page says for the API's error codes (its `detail` is English only)."""
    return {
        "insufficient_funds": _("You do not have enough credit for this. Please top up first."),
        "advisor_unavailable": _("This advisor is not available right now."),
        "caller_in_call": _("You are already in a call."),
        "wallet_owes": _("Your account has an open balance to settle first."),
        "spending_cap": _("This would go beyond your monthly spending limit."),
        "review_refused": _("This call cannot be rated."),
        "invalid_credentials": _("The password is not right."),
        "invalid_input": _("Please check the highlighted field."),
        "invalid_topup": _("Please choose an amount within the allowed range."),
        "throttled": _("Too many attempts. Please wait a moment and try again."),
        "csrf_failed": _("This page has expired. Please reload it."),
        "not_authenticated": _("Please sign in again."),
        "network": _("The connection failed. Please check your network and try again."),
        "default": _("That did not work. Please try again."),
    }


def _page(request: HttpRequest, template: str, section: str, context: dict, status: int = 200):
    user = _signed_in(request)
    base = {
        "section": section,
        "viewer": user,
        "currency_exponent": exponent(licensee_current().currency),
        "api_messages": _api_messages(),
    }
    return render(request, template, base | context, status=status)


# --- Advisors --------------------------------------------------------------------------------


@require_GET
def directory(request: HttpRequest) -> HttpResponse:
    form = DirectoryFilterForm(request.GET or None, label_suffix="")
    filters: dict = {}
    status = 200
    if form.is_bound:
        if form.is_valid():
            filters = {key: value for key, value in form.cleaned_data.items() if value}
        else:
            status = 400
    advisors = list(advisor_selectors.advisor_list_public(**filters)[:100])
    user = _signed_in(request)
    favorites = (
        advisor_selectors.favorite_advisor_ids(user_id=user.pk)
        if user and user.role == END_USER
        else set()
    )
    return _page(
        request,
        "webapp/directory.html",
        "advisors",
        {"form": form, "advisors": advisors, "favorites": favorites},
        status=status,
    )


@require_GET
def advisor_detail(request: HttpRequest, advisor_id: int) -> HttpResponse:
    advisor = advisor_selectors.advisor_get_public(advisor_id=advisor_id)
    if advisor is None:
        raise Http404
    user = _signed_in(request)
    favorite = bool(
        user
        and user.role == END_USER
        and advisor.pk in advisor_selectors.favorite_advisor_ids(user_id=user.pk)
    )
    return _page(
        request,
        "webapp/advisor.html",
        "advisors",
        {
            "advisor": advisor,
            "session_rates": list(
                advisor_selectors.advisor_rates_offered(
                    advisor, advisor_selectors.session_kinds_enabled()
                ).items()
            ),
            "favorites": {advisor.pk} if favorite else set(),
            "slot_zone": appointment_selectors.schedule_zone(advisor_id=advisor.pk),
            "slots": appointment_selectors.open_slots(advisor_id=advisor.pk, now=timezone.now())
            if user and user.role == END_USER
            else [],
            "my_bookings": appointment_selectors.appointments_for_party(user=user).filter(
                advisor=advisor, status="booked"
            )
            if user and user.role == END_USER
            else [],
            "queued": bool(
                user
                and user.role == END_USER
                and call_selectors.queue_place_get(caller=user, advisor_id=advisor.pk)
            ),
            "reviews": call_selectors.reviews_for_advisor(advisor_id=advisor.pk),
            "minimum_minutes": policy_get().minimum_minutes,
        },
    )


@role_page(END_USER)
def favorites(request: HttpRequest, user: User) -> HttpResponse:
    ids = advisor_selectors.favorite_advisor_ids(user_id=user.pk)
    advisors = advisor_selectors.advisor_list_public().filter(pk__in=ids)
    return _page(
        request,
        "webapp/favorites.html",
        "favorites",
        {"advisors": advisors, "favorites": ids},
    )


# --- Account ---------------------------------------------------------------------------------


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if _signed_in(request) is not None:
        return redirect("/")
    form = RegisterForm(request.POST or None, label_suffix="")
    if request.method == "POST" and not LicenseeRateThrottle("register").allow_request(request):
        # The same budget as POST /api/v1/auth/register, per address and licensee.
        form.add_error(None, _("Too many attempts. Please wait a moment and try again."))
        return _page(request, "webapp/register.html", "register", {"form": form}, status=429)
    if request.method == "POST" and form.is_valid():
        try:
            user = identity_services.end_user_register(
                origin=canonical_origin(request), **form.cleaned_data
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("/wallet/")
    status = 400 if request.method == "POST" else 200
    return _page(request, "webapp/register.html", "register", {"form": form}, status=status)


@require_GET
def account_closed(request: HttpRequest) -> HttpResponse:
    """Where the privacy centre lands after an erasure. The closed account cannot sign in
    any more; its leftover session is dropped here (a live account is never signed out by
    a GET)."""
    if not request.user.is_authenticated and request.session.get(SESSION_KEY):
        request.session.flush()
    return _page(request, "webapp/closed.html", "", {})


# --- Wallet ----------------------------------------------------------------------------------


@role_page(END_USER)
def wallet(request: HttpRequest, user: User) -> HttpResponse:
    stripe_row = payment_selectors.stripe_connection_get()
    publishable_key = stripe_row.publishable_key if stripe_row else ""
    sandbox = bool(publishable_key) and stripe_gateway.is_sandbox_key(publishable_key)
    if publishable_key and not sandbox:
        csp_allow(
            request,
            script_src=settings.STRIPE_JS_ORIGINS,
            frame_src=settings.STRIPE_FRAME_ORIGINS,
            connect_src=STRIPE_API_ORIGINS,
        )
    policy = payment_selectors.topup_policy_get()
    return _page(
        request,
        "webapp/wallet.html",
        "wallet",
        {
            "balance": wallet_selectors.wallet_balance_get(user_id=user.pk),
            "lines": wallet_history.wallet_lines(
                user_id=user.pk, limit=20, money=brand_current().money
            )[1],
            "packages": payment_selectors.topup_packages_active(),
            "payments_ready": bool(publishable_key),
            "topup_config": {
                "sandbox": sandbox,
                "min": policy.min_amount_minor,
                "max": policy.max_amount_minor,
            },
        },
    )


# --- Calls -----------------------------------------------------------------------------------


@role_page(END_USER, ADVISOR)
def call_history(request: HttpRequest, user: User) -> HttpResponse:
    calls = call_selectors.calls_for_party(user=user)[:50]
    cap = getattr(user, "spending_cap", None) if user.role == END_USER else None
    return _page(
        request,
        "webapp/calls.html",
        "calls",
        {"calls": calls, "cap": cap, "is_caller": user.role == END_USER},
    )


@role_page(END_USER, ADVISOR)
def call_screen(request: HttpRequest, user: User, call_id: int) -> HttpResponse:
    call = call_selectors.call_for_party(user=user, call_id=call_id)
    if call is None:
        raise Http404
    sandbox = livekit_gateway.is_sandbox()
    if not sandbox:
        csp_allow(request, connect_src=livekit_origins())
    is_caller = call.caller_id == user.pk
    review = getattr(call, "review", None)
    is_chat = call.kind == "chat"
    return _page(
        request,
        "webapp/call.html",
        "calls",
        {
            "call": call,
            "is_caller": is_caller,
            "chat_messages": call_selectors.chat_messages_for_party(call=call) if is_chat else [],
            "chat_open": is_chat and call.status in (Call.Status.RINGING, Call.Status.CONNECTED),
            "review": review,
            "can_review": is_caller
            and review is None
            and call.status == Call.Status.COMPLETED
            and call.talk_seconds >= REVIEW_MIN_TALK_SECONDS,
            # Say why there is no rating form after a short call, instead of nothing.
            "too_short_to_rate": is_caller
            and review is None
            and call.status == Call.Status.COMPLETED
            and call.talk_seconds < REVIEW_MIN_TALK_SECONDS,
            "review_min_seconds": REVIEW_MIN_TALK_SECONDS,
            "call_config": {
                "id": call.pk,
                "kind": call.kind,
                "role": "caller" if is_caller else "advisor",
                "status": call.status,
                "sandbox": sandbox,
                "currency": call.currency,
                "exponent": exponent(call.currency),
            },
        },
    )


# --- Privacy centre --------------------------------------------------------------------------


@role_page(END_USER, ADVISOR)
def privacy(request: HttpRequest, user: User) -> HttpResponse:
    marketing = identity_selectors.consent_current(
        user=user, purpose=ConsentRecord.Purpose.MARKETING
    )
    return _page(
        request,
        "webapp/privacy.html",
        "privacy",
        {
            "marketing": bool(marketing and marketing.granted),
            "history": identity_selectors.consent_history(user=user)[:20],
        },
    )


# --- The advisor's console -------------------------------------------------------------------


@role_page(ADVISOR)
def advisor_console(request: HttpRequest, user: User) -> HttpResponse:
    advisor = advisor_selectors.advisor_for_user(user_id=user.pk)
    if advisor is None:
        return render(request, "webapp/forbidden.html", status=403)
    if request.GET.get("payouts") in ("return", "refresh"):
        # Back from Stripe's onboarding: ask Stripe for the account rather than wait for
        # its webhook (which may come late, or not at all).
        try:
            payout_services.payout_account_refresh(advisor_id=advisor.pk)
        except DomainError:
            pass  # Stripe unreachable: the page shows what we knew, the webhook still counts
    clearing_days = payout_selectors.policy_get().clearing_days
    pricing = policy_get()
    return _page(
        request,
        "webapp/console.html",
        "console",
        {
            "advisor": advisor,
            "earnings": payout_selectors.earnings_get(advisor=advisor, clearing_days=clearing_days),
            "payout_state": payout_selectors.payout_state_get(advisor=advisor),
            "calls": call_selectors.calls_for_party(user=user)[:10],
            "queue": call_selectors.queue_for_advisor(user=user),
            "bookings": appointment_selectors.appointments_for_party(user=user).filter(
                status="booked"
            )[:20],
            # Shown in the zone the advisor's availability is published (and booked) in.
            "booking_zone": appointment_selectors.schedule_zone(advisor_id=advisor.pk),
            "kind_rates": [
                (
                    kind,
                    label,
                    major_text(rate, licensee_current().currency) if rate else "",
                )
                for kind, label in (
                    (("voice", _("Call")), ("chat", _("Chat")), ("video", _("Video call")))
                )
                for rate in [advisor.rates.get(kind)]
            ],
            "rate_bounds": {"min": pricing.min_rate_minor, "max": pricing.max_rate_minor},
            "commission": advisor_selectors.commission_summary(
                advisor_id=advisor.pk, default_bps=pricing.advisor_share_bps
            ),
            "advisor_currency": licensee_current().currency,
            "rate_value": major_text(advisor.rate_minor_per_minute, licensee_current().currency),
        },
    )


@require_http_methods(["GET", "POST"])
def advisor_apply(request: HttpRequest) -> HttpResponse:
    """Apply to advise here; the licensee's admins approve or decline in the dashboard."""
    form = AdvisorApplicationForm(request.POST or None, label_suffix="")
    currency = licensee_current().currency
    policy = policy_get()
    money = brand_current().money
    bounds = {"min": money(policy.min_rate_minor), "max": money(policy.max_rate_minor)}
    context = {"form": form, "bounds": bounds, "sent": False}
    if request.method == "POST" and not LicenseeRateThrottle("register").allow_request(request):
        form.add_error(None, _("Too many attempts. Please wait a moment and try again."))
        return _page(request, "webapp/apply.html", "apply", context, status=429)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            advisor_services.application_submit(
                email=data["email"],
                display_name=data["display_name"],
                headline=data["headline"],
                bio=data["bio"],
                categories=data["categories"],
                languages=data["languages"],
                rate_minor=parse_major(data["rate"], currency, field="rate"),
            )
        except InvalidMoney:
            form.add_error(
                "rate",
                _("Enter the rate as an amount, such as %(example)s.")
                % {"example": major_text(2 * 10 ** exponent(currency), currency)},
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.detail)
        else:
            return _page(request, "webapp/apply.html", "apply", context | {"sent": True})
    status = 400 if request.method == "POST" else 200
    return _page(request, "webapp/apply.html", "apply", context, status=status)
