"""The licensee dashboard (`/dashboard/` on the licensee's hosts): server-rendered pages for
owners and admins. Every change goes through the owning app's service, inside one
transaction with its audit entry; every list downloads as CSV with `?format=csv`."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branding import services as brand_services
from branding.selectors import brand_for_licensee, brand_row_get
from compliance.licensee import erasure, subject_access
from compliance.licensee import links as export_links
from compliance.licensee import selectors as export_selectors
from compliance.licensee import services as export_services
from compliance.licensee.models import PrivacyRequest
from identity import selectors as identity_selectors
from identity import services as identity_services
from identity.models import User
from kernel.errors import DomainError
from kernel.money import exponent
from kernel.throttling import LicenseeRateThrottle
from tenant_apps.advisors import selectors as advisor_selectors
from tenant_apps.advisors import services as advisor_services
from tenant_apps.dashboard import forms, selectors
from tenant_apps.dashboard.access import dashboard_view
from tenant_apps.dashboard.csv_export import csv_response, wants_csv
from tenant_apps.dashboard.services import audit_record
from tenant_apps.notifications import selectors as notification_selectors
from tenant_apps.notifications import services as notification_services
from tenant_apps.payments import selectors as payment_selectors
from tenant_apps.payments import services as payment_services
from tenant_apps.payments.models import TopUp, TopUpPackage
from tenant_apps.payouts import selectors as payout_selectors
from tenant_apps.payouts.models import Payout
from tenant_apps.pricing import services as pricing_services
from tenant_apps.pricing.selectors import policy_get
from tenant_apps.wallets import selectors as wallet_selectors
from tenants import bridge as domain_services

PAGE_SIZE = 50


def _origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _page(request: HttpRequest, items):
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def _act(request, form, *, action: str, target: str, run, details=None, fields=None) -> bool:
    """Run a service and record it, in one transaction; a refusal lands on the form."""
    try:
        with transaction.atomic():
            run()
            audit_record(actor=request.user, action=action, target=target, details=details)
    except DomainError as error:
        if form is None:
            messages.error(request, error.detail)
        else:
            forms.refusal_show(form, error, fields=fields)
        return False
    return True


def _render(request, template: str, context: dict, *, invalid: bool = False) -> HttpResponse:
    return render(request, f"dashboard/{template}", context, status=400 if invalid else 200)


def _money(amount_minor: int | None) -> str:
    if amount_minor is None:
        return ""
    return brand_for_licensee(connection.tenant).money(amount_minor)


# --- Overview ------------------------------------------------------------------------------


@dashboard_view
def overview(request: HttpRequest) -> HttpResponse:
    try:
        days = int(request.GET.get("period", 30))
    except ValueError:
        days = 0
    if days not in selectors.PERIODS:
        return _render(
            request,
            "overview.html",
            {
                "period_error": _("Choose a period of 7, 30 or 90 days."),
                "periods": selectors.PERIODS,
            },
            invalid=True,
        )
    period = selectors.period_for(days)
    data = selectors.overview_get(period=period)
    labels = [day.strftime("%d %b") for day in period.day_list()]
    major = 10 ** exponent(connection.tenant.currency)
    charts = {
        "revenue": {
            "type": "bar",
            "labels": labels,
            "datasets": [
                {
                    "label": _("Revenue"),
                    "data": [row["revenue_minor"] / major for row in data["series"]],
                }
            ],
        },
        "talk": {
            "type": "line",
            "labels": labels,
            "datasets": [
                {
                    "label": _("Talk minutes"),
                    "data": [row["talk_minutes"] for row in data["series"]],
                },
            ],
        },
        "activity": {
            "type": "bar",
            "labels": labels,
            "datasets": [
                {"label": _("Calls"), "data": [row["calls"] for row in data["series"]]},
                {"label": _("New users"), "data": [row["new_users"] for row in data["series"]]},
            ],
        },
    }
    if wants_csv(request):
        return csv_response(
            filename=f"overview-{period.first_day}-{period.last_day}.csv",
            header=["day", "revenue_minor", "talk_minutes", "calls", "new_users"],
            rows=(
                [
                    row["day"],
                    row["revenue_minor"],
                    row["talk_minutes"],
                    row["calls"],
                    row["new_users"],
                ]
                for row in data["series"]
            ),
        )
    return _render(
        request,
        "overview.html",
        {"data": data, "period": period, "periods": selectors.PERIODS, "charts": charts},
    )


# --- Advisors ------------------------------------------------------------------------------


@dashboard_view
def advisors(request: HttpRequest, invite_form=None) -> HttpResponse:
    query = (request.GET.get("q") or "").strip()
    rows = advisor_selectors.advisor_list_admin(text=query or None)
    if wants_csv(request):
        return csv_response(
            filename="advisors.csv",
            header=[
                "id",
                "name",
                "email",
                "status",
                "suspended",
                "rate_minor_per_minute",
                "rating",
                "joined",
            ],
            rows=(
                [
                    a.pk,
                    a.display_name,
                    a.user.email,
                    a.status,
                    a.suspended,
                    a.rate_minor_per_minute,
                    a.rating,
                    a.created_at.date(),
                ]
                for a in rows
            ),
        )
    return _render(
        request,
        "advisors.html",
        {
            "page": _page(request, rows),
            "q": query,
            "form": invite_form or forms.InviteAdvisorForm(),
        },
        invalid=invite_form is not None,
    )


@require_POST
@dashboard_view
def advisor_invite(request: HttpRequest) -> HttpResponse:
    form = forms.InviteAdvisorForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        if _act(
            request,
            form,
            action="advisor.invite",
            target=data["email"].strip().lower(),
            run=lambda: advisor_services.advisor_create(
                email=data["email"],
                display_name=data["display_name"],
                rate_minor=data["rate"],
                admin=request.user,
                origin=_origin(request),
            ),
        ):
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": data["email"]})
            return redirect("dashboard:advisors")
    return advisors(request, invite_form=form)


def _advisor_or_404(advisor_id: int):
    advisor = advisor_selectors.advisor_list_admin().filter(pk=advisor_id).first()
    if advisor is None:
        raise Http404(_("There is no such advisor."))
    return advisor


@dashboard_view
def advisor_detail(
    request: HttpRequest, advisor_id: int, rate_form=None, suspend_form=None
) -> HttpResponse:
    advisor = _advisor_or_404(advisor_id)
    currency = connection.tenant.currency
    context = {
        "advisor": advisor,
        "rate_form": rate_form
        or forms.AdvisorRateForm(initial={"rate": f"{advisor.rate_minor_per_minute / 100:.2f}"}),
        "suspend_form": suspend_form or forms.SuspendForm(),
        "calls": selectors.calls_admin(advisor_id=advisor.pk)[:20],
        "payout_state": payout_selectors.payout_state_get(advisor=advisor),
        "currency": currency,
    }
    return _render(request, "advisor_detail.html", context, invalid=bool(rate_form or suspend_form))


@require_POST
@dashboard_view
def advisor_rate(request: HttpRequest, advisor_id: int) -> HttpResponse:
    advisor = _advisor_or_404(advisor_id)
    form = forms.AdvisorRateForm(request.POST)
    if form.is_valid() and _act(
        request,
        form,
        action="advisor.rate",
        target=f"advisor:{advisor.pk}",
        details={"rate_minor": form.cleaned_data["rate"]},
        run=lambda: advisor_services.advisor_update(
            advisor_id=advisor.pk, rate_minor=form.cleaned_data["rate"]
        ),
    ):
        messages.success(request, _("The rate is saved."))
        return redirect("dashboard:advisor", advisor_id=advisor.pk)
    return advisor_detail(request, advisor_id, rate_form=form)


@require_POST
@dashboard_view
def advisor_suspend(request: HttpRequest, advisor_id: int) -> HttpResponse:
    advisor = _advisor_or_404(advisor_id)
    form = forms.SuspendForm(request.POST)
    if form.is_valid() and _act(
        request,
        form,
        action="advisor.suspend",
        target=f"advisor:{advisor.pk}",
        details={"reason": form.cleaned_data["reason"]},
        run=lambda: advisor_services.advisor_suspend(
            advisor_id=advisor.pk, reason=form.cleaned_data["reason"]
        ),
    ):
        messages.success(request, _("%(name)s is suspended.") % {"name": advisor.display_name})
        return redirect("dashboard:advisor", advisor_id=advisor.pk)
    return advisor_detail(request, advisor_id, suspend_form=form)


@require_POST
@dashboard_view
def advisor_reinstate(request: HttpRequest, advisor_id: int) -> HttpResponse:
    advisor = _advisor_or_404(advisor_id)
    if _act(
        request,
        None,
        action="advisor.reinstate",
        target=f"advisor:{advisor.pk}",
        run=lambda: advisor_services.advisor_reinstate(advisor_id=advisor.pk),
    ):
        messages.success(
            request, _("%(name)s may take calls again.") % {"name": advisor.display_name}
        )
    return redirect("dashboard:advisor", advisor_id=advisor.pk)


# --- End users -----------------------------------------------------------------------------


@dashboard_view
def users(request: HttpRequest) -> HttpResponse:
    query = (request.GET.get("q") or "").strip()
    rows = identity_selectors.user_search(role=User.Role.END_USER, text=query or None)
    if wants_csv(request):
        return csv_response(
            filename="end-users.csv",
            header=["id", "name", "email", "active", "joined"],
            rows=([u.pk, u.display_name, u.email, u.is_active, u.date_joined.date()] for u in rows),
        )
    return _render(request, "users.html", {"page": _page(request, rows), "q": query})


def _end_user_or_404(user_id: int) -> User:
    user = selectors.end_user_get(user_id=user_id)
    if user is None:
        raise Http404(_("There is no such end user."))
    return user


@dashboard_view
def user_detail(
    request: HttpRequest, user_id: int, credit_form=None, refund_form=None, refund_topup=None
) -> HttpResponse:
    person = _end_user_or_404(user_id)
    context = {
        "person": person,
        "balance": wallet_selectors.wallet_balance_get(user_id=person.pk),
        "entries": wallet_selectors.wallet_entries(user_id=person.pk)[:20],
        "calls": selectors.calls_admin(caller_id=person.pk)[:20],
        "topups": TopUp.objects.filter(user_id=person.pk).order_by("-created_at")[:20],
        "credit_form": credit_form or forms.CreditForm(),
        "refund_form": refund_form or forms.RefundForm(),
        "refund_topup": refund_topup,
        "idempotency_key": uuid.uuid4().hex,
    }
    return _render(request, "user_detail.html", context, invalid=bool(credit_form or refund_form))


@require_POST
@dashboard_view
def user_credit(request: HttpRequest, user_id: int) -> HttpResponse:
    person = _end_user_or_404(user_id)
    form = forms.CreditForm(request.POST)
    # One key per rendered form: a double submit grants once.
    key = f"dashboard-credit-{(request.POST.get('idempotency_key') or uuid.uuid4().hex)[:64]}"
    if form.is_valid() and _act(
        request,
        form,
        action="user.credit",
        target=f"user:{person.pk}",
        details={
            "amount_minor": form.cleaned_data["amount"],
            "reason": form.cleaned_data["reason"],
        },
        run=lambda: payment_services.credit_grant(
            user_id=person.pk,
            amount_minor=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            admin=request.user,
            idempotency_key=key,
        ),
    ):
        messages.success(
            request,
            _("%(amount)s credit granted to %(name)s.")
            % {
                "amount": _money(form.cleaned_data["amount"]),
                "name": person.display_name or person.email,
            },
        )
        return redirect("dashboard:user", user_id=person.pk)
    return user_detail(request, user_id, credit_form=form)


@require_POST
@dashboard_view
def user_refund(request: HttpRequest, user_id: int, topup_id: int) -> HttpResponse:
    person = _end_user_or_404(user_id)
    topup = TopUp.objects.filter(pk=topup_id, user_id=person.pk).first()  # only this user's
    form = forms.RefundForm(request.POST)
    if topup is None:
        raise Http404(_("There is no such top-up."))
    if form.is_valid() and _act(
        request,
        form,
        action="user.refund",
        target=f"topup:{topup.pk}",
        details={
            "amount_minor": form.cleaned_data["amount"],
            "reason": form.cleaned_data["reason"],
        },
        run=lambda: payment_services.topup_refund(
            topup_id=topup.pk,
            amount_minor=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            admin=request.user,
        ),
    ):
        messages.success(request, _("The refund is on its way."))
        return redirect("dashboard:user", user_id=person.pk)
    return user_detail(request, user_id, refund_form=form, refund_topup=topup.pk)


@require_POST
@dashboard_view
def user_flag_minor(request: HttpRequest, user_id: int) -> HttpResponse:
    """The account is a minor's: erased at once (financial records kept under a pseudonym),
    logged in the privacy request log and the audit trail."""
    person = _end_user_or_404(user_id)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm that the account is a minor's."))
        return redirect("dashboard:user", user_id=person.pk)
    if _act(
        request,
        None,
        action="user.flag_minor",
        target=f"user:{person.pk}",
        run=lambda: erasure.account_flag_minor(
            user_id=person.pk,
            flagged_by_id=request.user.pk,
            channel=PrivacyRequest.Channel.ADMIN,
        ),
    ):
        messages.success(
            request,
            _("Account #%(id)s was a minor's and has been erased.") % {"id": person.pk},
        )
        return redirect("dashboard:users")
    return redirect("dashboard:user", user_id=person.pk)


@require_POST
@dashboard_view
def user_subject_export(request: HttpRequest, user_id: int) -> HttpResponse:
    """Answer an end user's access request (GDPR art. 15): their data as the JSON they would
    download themselves, recorded in the audit trail."""
    person = _end_user_or_404(user_id)
    with transaction.atomic():
        data = subject_access.subject_export(user=person)
        audit_record(actor=request.user, action="user.subject_export", target=f"user:{person.pk}")
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="user-{person.pk}-data.json"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- Calls ---------------------------------------------------------------------------------


@dashboard_view
def calls(request: HttpRequest) -> HttpResponse:
    filters = forms.CallFilterForm(request.GET or None)
    if filters.is_bound and not filters.is_valid():
        return _render(
            request, "calls.html", {"filters": filters, "live": [], "page": None}, invalid=True
        )
    chosen = filters.cleaned_data if filters.is_bound else {}
    rows = selectors.calls_admin(
        status=chosen.get("status") or None,
        advisor_id=chosen["advisor"].pk if chosen.get("advisor") else None,
        since=chosen.get("since"),
        until=chosen.get("until"),
    )
    if wants_csv(request):
        return csv_response(
            filename="calls.csv",
            header=[
                "id",
                "created_at",
                "status",
                "advisor",
                "caller_id",
                "talk_seconds",
                "cost_minor",
                "advisor_minor",
                "licensee_minor",
                "currency",
                "end_reason",
            ],
            rows=(
                [
                    c.pk,
                    c.created_at.isoformat(),
                    c.status,
                    c.advisor.display_name,
                    c.caller_id,
                    c.talk_seconds,
                    c.cost_minor,
                    c.advisor_minor,
                    c.licensee_minor,
                    c.currency,
                    c.end_reason,
                ]
                for c in rows
            ),
        )
    return _render(
        request,
        "calls.html",
        {
            "filters": filters,
            "live": selectors.calls_admin(live=True)[:50],
            "page": _page(request, rows),
        },
    )


# --- Payouts -------------------------------------------------------------------------------


@dashboard_view
def payouts(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or None
    rows = payout_selectors.payouts_admin(status=status).select_related("advisor")
    if wants_csv(request):
        return csv_response(
            filename="payouts.csv",
            header=["id", "advisor", "amount_minor", "currency", "status", "created_at"],
            rows=(
                [
                    p.pk,
                    p.advisor.display_name,
                    p.amount_minor,
                    p.currency,
                    p.status,
                    p.created_at.isoformat(),
                ]
                for p in rows
            ),
        )
    return _render(
        request,
        "payouts.html",
        {
            "page": _page(request, rows),
            "status": status or "",
            "statuses": Payout.Status.choices,
            "policy": payout_selectors.policy_get(),
        },
    )


# --- Money settings: packages and pricing --------------------------------------------------


@dashboard_view
def packages(request: HttpRequest, form=None) -> HttpResponse:
    rows = TopUpPackage.objects.order_by("sort_order", "amount_minor")
    if wants_csv(request):
        return csv_response(
            filename="topup-packages.csv",
            header=["code", "name", "amount_minor", "bonus_minor", "active"],
            rows=([p.code, p.name, p.amount_minor, p.bonus_minor, p.active] for p in rows),
        )
    return _render(
        request,
        "packages.html",
        {
            "packages": rows,
            "form": form or forms.PackageForm(),
            "policy": payment_selectors.topup_policy_get(),
        },
        invalid=form is not None,
    )


@require_POST
@dashboard_view
def package_create(request: HttpRequest) -> HttpResponse:
    form = forms.PackageForm(request.POST)
    if form.is_valid() and _act(
        request,
        form,
        action="package.create",
        target=form.cleaned_data["code"],
        run=lambda: payment_services.topup_package_create(
            code=form.cleaned_data["code"],
            name=form.cleaned_data["name"],
            amount_minor=form.cleaned_data["amount"],
            bonus_minor=form.cleaned_data["bonus"] or 0,
        ),
    ):
        messages.success(request, _("The package is on sale."))
        return redirect("dashboard:packages")
    return packages(request, form=form)


@dashboard_view
def pricing(request: HttpRequest) -> HttpResponse:
    policy = policy_get()
    if request.method == "POST":
        form = forms.PricingForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            changes = {
                "billing_mode": data["billing_mode"],
                "intro_free_seconds": data["intro_free_seconds"],
                "minimum_minutes": data["minimum_minutes"],
                "grace_seconds": data["grace_seconds"],
                "min_rate_minor": data["min_rate"],
                "max_rate_minor": data["max_rate"],
                "advisor_share_bps": int(data["advisor_share_percent"] * 100),
            }
            if _act(
                request,
                form,
                action="pricing.update",
                target="pricing",
                details={k: str(v) for k, v in changes.items()},
                run=lambda: pricing_services.policy_update(**changes),
                fields={"min_rate": "min_rate", "advisor_share_bps": "advisor_share_percent"},
            ):
                messages.success(request, _("The billing policy is saved."))
                return redirect("dashboard:pricing")
        return _render(request, "pricing.html", {"form": form, "policy": policy}, invalid=True)
    form = forms.PricingForm(
        initial={
            "billing_mode": policy.billing_mode,
            "intro_free_seconds": policy.intro_free_seconds,
            "minimum_minutes": policy.minimum_minutes,
            "grace_seconds": policy.grace_seconds,
            "min_rate": f"{policy.min_rate_minor / 100:.2f}",
            "max_rate": f"{policy.max_rate_minor / 100:.2f}",
            "advisor_share_percent": policy.advisor_share_bps / 100,
        }
    )
    return _render(request, "pricing.html", {"form": form, "policy": policy})


# --- Brand ---------------------------------------------------------------------------------


@dashboard_view
def brand(request: HttpRequest) -> HttpResponse:
    licensee = request.tenant
    current = brand_for_licensee(licensee)
    form = forms.BrandForm(
        initial={field: getattr(current, field) for field in forms.BrandForm.base_fields}
    )
    image_form = forms.BrandImageForm()
    invalid = False
    if request.method == "POST" and request.POST.get("part") == "image":
        image_form = forms.BrandImageForm(request.POST, request.FILES)
        if image_form.is_valid():
            upload = image_form.cleaned_data["image"]
            kind = image_form.cleaned_data["kind"]
            if _act(
                request,
                image_form,
                action="brand.image",
                target=kind,
                run=lambda: brand_services.brand_image_set(
                    licensee=licensee,
                    kind=kind,
                    content=upload.read(settings.BRAND_IMAGE_MAX_BYTES + 1),
                ),
                fields={kind: "image"},
            ):
                messages.success(request, _("The image is saved."))
                return redirect("dashboard:brand")
        invalid = True
    elif request.method == "POST":
        form = forms.BrandForm(request.POST)
        if form.is_valid():
            if _act(
                request,
                form,
                action="brand.update",
                target="brand",
                details={
                    k: v
                    for k, v in form.cleaned_data.items()
                    if k.endswith("color") or k == "app_name"
                },
                run=lambda: brand_services.brand_update(licensee=licensee, **form.cleaned_data),
            ):
                messages.success(request, _("The brand is saved. Every page shows it now."))
                return redirect("dashboard:brand")
        invalid = True
    row = brand_row_get(licensee_id=licensee.pk)
    return _render(
        request,
        "brand.html",
        {"form": form, "image_form": image_form, "current": current, "row": row},
        invalid=invalid,
    )


# --- Connections: Stripe and Firebase ------------------------------------------------------


@dashboard_view
def integrations(request: HttpRequest) -> HttpResponse:
    stripe_form, firebase_form, invalid = forms.StripeForm(), forms.FirebaseForm(), False
    if request.method == "POST" and request.POST.get("part") == "stripe":
        stripe_form = forms.StripeForm(request.POST)
        if stripe_form.is_valid() and _act(
            request,
            stripe_form,
            action="stripe.connect",
            target="stripe",
            run=lambda: payment_services.stripe_connect(
                admin=request.user, **stripe_form.cleaned_data
            ),
        ):
            messages.success(request, _("Stripe is connected."))
            return redirect("dashboard:integrations")
        invalid = True
    elif request.method == "POST" and request.POST.get("part") == "firebase":
        firebase_form = forms.FirebaseForm(request.POST)
        if firebase_form.is_valid() and _act(
            request,
            firebase_form,
            action="firebase.connect",
            target="firebase",
            run=lambda: notification_services.firebase_project_set(
                admin=request.user, credentials_json=firebase_form.cleaned_data["credentials_json"]
            ),
            fields={"": "credentials_json"},
        ):
            messages.success(request, _("Firebase is connected."))
            return redirect("dashboard:integrations")
        invalid = True
    context = {
        "stripe": payment_selectors.stripe_connection_summary(),
        "firebase": notification_selectors.firebase_project_get(),
        "stripe_form": stripe_form,
        "firebase_form": firebase_form,
        "webhook_url": f"{_origin(request)}/webhooks/stripe",
    }
    return _render(request, "integrations.html", context, invalid=invalid)


# --- Custom domains ------------------------------------------------------------------------


@dashboard_view
def domains(request: HttpRequest) -> HttpResponse:
    licensee = request.tenant
    form, invalid = forms.DomainForm(), False
    if request.method == "POST":
        step = request.POST.get("step")
        name = request.POST.get("domain", "")
        if step == "add":
            form = forms.DomainForm(request.POST)
            if form.is_valid() and _act(
                request,
                form,
                action="domain.add",
                target=form.cleaned_data["domain"],
                run=lambda: domain_services.custom_domain_add(
                    licensee=licensee, domain=form.cleaned_data["domain"]
                ),
            ):
                messages.success(request, _("Add the TXT record below, then verify."))
                return redirect("dashboard:domains")
            invalid = True
        elif step in ("verify", "remove"):
            run = {
                "verify": lambda: domain_services.custom_domain_verify(
                    licensee=licensee, domain=name
                ),
                "remove": lambda: domain_services.custom_domain_remove(
                    licensee=licensee, domain=name
                ),
            }[step]
            if _act(request, None, action=f"domain.{step}", target=name, run=run):
                messages.success(request, _("Done: %(domain)s") % {"domain": name})
            return redirect("dashboard:domains")
    rows = domain_services.custom_domain_list(licensee=licensee)
    return _render(request, "domains.html", {"domains": rows, "form": form}, invalid=invalid)


# --- Data exports --------------------------------------------------------------------------


@dashboard_view
def exports(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        # The same budget as `POST /api/v1/admin/exports`: per admin and licensee.
        request.auth = request.user
        if not LicenseeRateThrottle("export").allow_request(request):
            messages.error(request, _("Too many export requests; please try again later."))
            return redirect("dashboard:exports")
        if _act(
            request,
            None,
            action="export.request",
            target="tenant",
            run=lambda: export_services.tenant_export_request(admin=request.user),
        ):
            messages.success(
                request, _("The export is being prepared. This page shows when it is ready.")
            )
        return redirect("dashboard:exports")
    rows = []
    for export in export_selectors.tenant_export_list():
        status = export_selectors.tenant_export_status(export=export)
        download = None
        if status == "ready":
            token = export_links.download_token_make(
                schema=connection.schema_name, export_id=export.pk
            )
            path = reverse("licensee_api:tenant_export_download", kwargs={"export_id": export.pk})
            download = f"{path}?{urlencode({'token': token})}"
        rows.append({"export": export, "status": status, "download": download})
    return _render(request, "exports.html", {"rows": rows})


# --- Team and audit trail ------------------------------------------------------------------


@dashboard_view
def team(request: HttpRequest) -> HttpResponse:
    form, invalid = forms.TeamInviteForm(), False
    if request.method == "POST":
        if request.user.role != User.Role.OWNER:
            return render(request, "dashboard/forbidden.html", status=403)
        form = forms.TeamInviteForm(request.POST)
        if form.is_valid() and _act(
            request,
            form,
            action="team.invite",
            target=form.cleaned_data["email"].strip().lower(),
            run=lambda: identity_services.admin_invite(
                email=form.cleaned_data["email"],
                display_name=form.cleaned_data["display_name"],
                invited_by=request.user,
                origin=_origin(request),
            ),
        ):
            messages.success(request, _("Invitation sent."))
            return redirect("dashboard:team")
        invalid = True
    members = selectors.team_members()
    if wants_csv(request):
        return csv_response(
            filename="team.csv",
            header=["id", "name", "email", "role", "active", "joined"],
            rows=(
                [m.pk, m.display_name, m.email, m.role, m.is_active, m.date_joined.date()]
                for m in members
            ),
        )
    return _render(request, "team.html", {"members": members, "form": form}, invalid=invalid)


@dashboard_view
def audit(request: HttpRequest) -> HttpResponse:
    rows = selectors.audit_entries(action=request.GET.get("action") or None)
    if wants_csv(request):
        return csv_response(
            filename="audit-trail.csv",
            header=["at", "actor", "action", "target", "details"],
            rows=(
                [e.created_at.isoformat(), e.actor.email, e.action, e.target, e.details]
                for e in rows
            ),
        )
    return _render(request, "audit.html", {"page": _page(request, rows)})
