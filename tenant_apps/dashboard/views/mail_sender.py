"""The licensee's e-mail sender: the address its mail comes from (on its host or a verified
domain) and, optionally, its own SMTP relay; a test message shows it working."""

from __future__ import annotations

from email.utils import formataddr

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from branding import services as brand_services
from branding.selectors import brand_for_licensee, brand_row_get
from tenant_apps.dashboard import forms
from tenant_apps.dashboard.access import DashboardRequest, dashboard_view
from tenant_apps.dashboard.views.page import act, render_page
from tenants import bridge
from tenants.bridge import licensee_current


def _stored_form() -> forms.MailSenderForm:
    row = brand_row_get(licensee_id=licensee_current().pk)
    if row is None:
        return forms.MailSenderForm(initial={"smtp_port": 587, "smtp_use_tls": True})
    return forms.MailSenderForm(
        initial={
            "sender_email": row.sender_email,
            "smtp_host": row.smtp_host,
            "smtp_port": row.smtp_port,
            "smtp_username": row.smtp_username,
            "smtp_use_tls": row.smtp_use_tls,
        }
    )


@dashboard_view
def mail_sender(request: DashboardRequest) -> HttpResponse:
    licensee = licensee_current()
    form, invalid = _stored_form(), False
    if request.method == "POST" and request.POST.get("part") == "test":
        if act(
            request,
            None,
            action="mail_sender.test",
            target=request.user.email,
            run=lambda: brand_services.brand_mail_test_send(
                licensee=licensee, to=request.user.email
            ),
        ):
            messages.success(
                request,
                _("A test message is on its way to %(email)s.") % {"email": request.user.email},
            )
        return redirect("dashboard:mail-sender")
    if request.method == "POST":
        form = forms.MailSenderForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            if act(
                request,
                form,
                action="mail_sender.update",
                target="mail_sender",
                details={
                    "sender_email": data["sender_email"],
                    "smtp_host": data["smtp_host"],
                    "smtp_port": data["smtp_port"],
                },
                run=lambda: bridge.mail_sender_set(licensee=licensee, **data),
            ):
                messages.success(request, _("The sender is saved."))
                return redirect("dashboard:mail-sender")
        invalid = True
    brand = brand_for_licensee(licensee)
    row = brand_row_get(licensee_id=licensee.pk)
    context = {
        "form": form,
        "from_header": formataddr((brand.app_name, brand.mail_from_address)),
        "reply_to": brand.support_email,
        "own_domains": bridge.own_mail_domains(licensee=licensee),
        "relay": row.smtp_host if row else "",
    }
    return render_page(request, "mail_sender.html", context, invalid=invalid)
