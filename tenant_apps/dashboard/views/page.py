"""What every dashboard page does the same way: render one of the dashboard's templates,
page through a list, run a service with its audit entry, show an amount in the licensee's
currency. Compliance's dashboard pages use it too, so they look and act the same."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from branding.selectors import brand_for_licensee
from kernel.addresses import canonical_origin
from kernel.errors import DomainError
from kernel.formatting import Formats
from tenant_apps.dashboard import forms
from tenant_apps.dashboard.services import audit_record
from tenants.bridge import licensee_current

PAGE_SIZE = 50


def origin(request: HttpRequest) -> str:
    """For links in e-mails: the canonical origin, never the request's Host header."""
    return canonical_origin(request)


def paginate(request: HttpRequest, items):
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def act(request, form, *, action: str, target: str, run, details=None, fields=None) -> bool:
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


def render_page(request, template: str, context: dict, *, invalid: bool = False) -> HttpResponse:
    return render(request, f"dashboard/{template}", context, status=400 if invalid else 200)


def spreadsheet() -> Formats:
    """How the CSV downloads write amounts and times: the reader's language with the
    licensee's region and time zone (`kernel.formatting`)."""
    return brand_for_licensee(licensee_current()).formats()


def money(amount_minor: int | None) -> str:
    if amount_minor is None:
        return ""
    return brand_for_licensee(licensee_current()).money(amount_minor)
