"""Callrix's public site (the public host): the plans on offer and licensee sign-up as HTML
pages over the same service as `POST /api/platform/v1/signup`, and a status page that a new
licensee watches until its first payment has arrived and its platform is ready."""

from __future__ import annotations

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core import signing
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods

from kernel.errors import DomainError
from kernel.money import format_minor
from kernel.throttling import LicenseeRateThrottle
from shared_apps.billing import selectors as billing_selectors
from shared_apps.licensing import signup
from shared_apps.privacy import selectors as policy_selectors
from shared_apps.website.analytics import matomo_csp_allow
from shared_apps.website.company import COMPANY
from shared_apps.website.policy_text import policy_blocks
from tenants import addresses

STATUS_SALT = "callrix.signup-status"
STATUS_MAX_AGE = 14 * 24 * 3600  # the status link outlives an unpaid sign-up (it expires)
ADDRESS_FIELDS = ("line1", "line2", "city", "postal_code", "country")
FIELDS = ("slug", "company", "full_name", "email", "phone", "plan")


def render(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    """A page of Callrix's website, with its self-hosted analytics when configured (never for
    `DNT: 1`)."""
    context = {"company": COMPANY, **context}
    matomo_csp_allow(request)
    response = TemplateResponse(request, template, context, status=status).render()
    patch_vary_headers(response, ["DNT"])
    return response


def favicon(request: HttpRequest) -> FileResponse:
    """`/favicon.ico` on the public host: browsers ask for it even where a page names its icon
    (the admin, the API's docs), so Callrix's icon answers instead of a 404."""
    found = finders.find("website/favicon.png")
    if not found:
        raise Http404("No icon.")
    response = FileResponse(open(str(found), "rb"), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def _priced(plans) -> list[tuple]:
    """(plan, its monthly fee, the price of a minute past the included ones or "")."""
    return [
        (
            plan,
            format_minor(plan.monthly_fee_minor, plan.currency),
            format_minor(plan.overage_minor_per_minute, plan.currency)
            if plan.overage_minor_per_minute
            else "",
        )
        for plan in plans
    ]


def home(request: HttpRequest) -> HttpResponse:
    plans = _priced(billing_selectors.plan_list_active())
    return render(request, "website/home.html", {"plans": plans, "section": "home"})


def pricing(request: HttpRequest) -> HttpResponse:
    plans = _priced(billing_selectors.plan_list_active())
    return render(request, "website/pricing.html", {"plans": plans, "section": "pricing"})


def privacy_policy(request: HttpRequest) -> HttpResponse:
    """The policy's text with the version in force today (and one announced, if any)."""
    today = timezone.now().date()
    context = {
        "policy": policy_selectors.policy_current(today=today),
        "upcoming": policy_selectors.policy_upcoming(today=today),
        "text": policy_blocks(),
        "section": "privacy",
    }
    return render(request, "website/privacy_policy.html", context)


def legal_notice(request: HttpRequest) -> HttpResponse:
    return render(request, "website/legal_notice.html", {"section": "legal"})


def contact(request: HttpRequest) -> HttpResponse:
    return render(request, "website/contact.html", {"section": "contact"})


def _form_values(post) -> dict[str, str]:
    values = {name: (post.get(name) or "").strip() for name in FIELDS}
    for name in ADDRESS_FIELDS:
        values[f"address_{name}"] = (post.get(f"address_{name}") or "").strip()
    return values


@require_http_methods(["GET", "POST"])
def signup_page(request: HttpRequest) -> HttpResponse:
    plans = list(billing_selectors.plan_list_active())
    values = {"plan": request.GET.get("plan", plans[0].code if plans else "")}
    error = None
    if request.method == "POST":
        values = _form_values(request.POST)
        throttle = LicenseeRateThrottle("signup")
        if not throttle.allow_request(request):
            error = DomainError("Too many sign-ups from here; please wait a little.")
            return _signup_form(request, plans, values, error, status=429)
        try:
            result = signup.licensee_signup(
                slug=values["slug"],
                company=values["company"],
                full_name=values["full_name"],
                email=values["email"],
                phone=values["phone"],
                password=request.POST.get("password") or "",
                billing_address={name: values[f"address_{name}"] for name in ADDRESS_FIELDS},
                plan=values["plan"],
            )
        except DomainError as failure:
            return _signup_form(request, plans, values, failure, status=failure.status_code)
        # The first invoice's payment page goes in the link: Stripe's hosted page has no way
        # back, so the status page is where the new licensee returns to.
        invoice = result.invoice
        pay_url = invoice.hosted_invoice_url if result.awaiting_payment and invoice else ""
        token = signing.dumps({"s": result.subscription.pk, "pay": pay_url}, salt=STATUS_SALT)
        return redirect("signup-status", token=token)
    return _signup_form(request, plans, values, error)


def _signup_form(request, plans, values, error, status: int = 200) -> HttpResponse:
    field = getattr(error, "field", None) or ""
    # The API names address fields "billing_address.city"; the form calls them address_city.
    field = field.replace("billing_address.", "address_")
    return render(
        request,
        "website/signup.html",
        {
            "plans": _priced(plans),
            "values": values,
            "error": error,
            "error_field": field,
            "base_domain": settings.BASE_DOMAIN,
            "section": "signup",
        },
        status=status,
    )


def signup_status(request: HttpRequest, token: str) -> HttpResponse:
    try:
        signed = signing.loads(token, salt=STATUS_SALT, max_age=STATUS_MAX_AGE)
    except signing.BadSignature:
        raise Http404("This link is not valid (or has expired).") from None
    subscription = billing_selectors.subscription_for_status(subscription_id=signed["s"])
    if subscription is None:
        raise Http404("This sign-up no longer exists.")
    licensee = subscription.licensee
    context = {
        "subscription": subscription,
        "licensee": licensee,
        "pay_url": signed.get("pay") or "",
        "platform_url": f"{addresses.licensee_origin(licensee.slug)}/" if licensee else None,
        "waiting": licensee is None and not subscription.has_ended,
    }
    return render(request, "website/signup_status.html", context)
