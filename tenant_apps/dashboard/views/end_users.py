"""End users: the list, one end user's wallet, top-ups and calls, credit and refunds.

Their data-subject requests (their data, the minor flag) are compliance's pages
(`compliance.licensee.dashboard`); the end user's page shows them through the "end_user"
slot of `tenant_apps.dashboard.contributions`."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branding.selectors import brand_current
from identity import selectors as identity_selectors
from identity.models import User
from tenant_apps.dashboard import forms, selectors
from tenant_apps.dashboard.access import DashboardRequest, dashboard_view
from tenant_apps.dashboard.csv_export import csv_response, wants_csv
from tenant_apps.dashboard.views.page import act, money, paginate, render_page, spreadsheet
from tenant_apps.payments import services as payment_services
from tenant_apps.payments.models import TopUp
from tenant_apps.wallets import history as wallet_history
from tenant_apps.wallets import selectors as wallet_selectors


@dashboard_view
def users(request: DashboardRequest) -> HttpResponse | StreamingHttpResponse:
    query = (request.GET.get("q") or "").strip()
    rows = identity_selectors.user_search(role=User.Role.END_USER, text=query or None)
    if wants_csv(request):
        sheet = spreadsheet()
        return csv_response(
            filename="end-users.csv",
            header=["id", "name", "email", "active", "joined"],
            rows=(
                [u.pk, u.display_name, u.email, u.is_active, sheet.spreadsheet_day(u.date_joined)]
                for u in rows
            ),
        )
    return render_page(request, "users.html", {"page": paginate(request, rows), "q": query})


def end_user_or_404(user_id: int) -> User:
    user = selectors.end_user_get(user_id=user_id)
    if user is None:
        raise Http404(_("There is no such end user."))
    return user


@dashboard_view
def user_detail(
    request: DashboardRequest, user_id: int, credit_form=None, refund_form=None, refund_topup=None
) -> HttpResponse:
    person = end_user_or_404(user_id)
    context = {
        "person": person,
        "balance": wallet_selectors.wallet_balance_get(user_id=person.pk),
        # One line per business event, as the person sees it; the raw ledger entries are at
        # GET /api/v1/admin/users/<id>/wallet/entries.
        "lines": wallet_history.wallet_lines(
            user_id=person.pk, limit=20, money=brand_current().money
        )[1],
        "calls": selectors.calls_admin(caller_id=person.pk)[:20],
        "topups": TopUp.objects.filter(user_id=person.pk).order_by("-created_at")[:20],
        "credit_form": credit_form or forms.CreditForm(),
        "refund_form": refund_form or forms.RefundForm(),
        "refund_topup": refund_topup,
        "idempotency_key": uuid.uuid4().hex,
    }
    return render_page(
        request, "user_detail.html", context, invalid=bool(credit_form or refund_form)
    )


@require_POST
@dashboard_view
def user_credit(request: DashboardRequest, user_id: int) -> HttpResponse:
    person = end_user_or_404(user_id)
    form = forms.CreditForm(request.POST)
    # One key per rendered form: a double submit grants once.
    key = f"dashboard-credit-{(request.POST.get('idempotency_key') or uuid.uuid4().hex)[:64]}"
    if form.is_valid() and act(
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
                "amount": money(form.cleaned_data["amount"]),
                "name": person.display_name or person.email,
            },
        )
        return redirect("dashboard:user", user_id=person.pk)
    return user_detail(request, user_id, credit_form=form)


@require_POST
@dashboard_view
def user_refund(request: DashboardRequest, user_id: int, topup_id: int) -> HttpResponse:
    person = end_user_or_404(user_id)
    topup = TopUp.objects.filter(pk=topup_id, user_id=person.pk).first()  # only this user's
    form = forms.RefundForm(request.POST)
    if topup is None:
        raise Http404(_("There is no such top-up."))
    if form.is_valid() and act(
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
