"""E-mails to a licensee's owner about its standing with Callrix. They go to the account
holder who signed the contract and to the owner accounts of the licensee's platform (read from
its schema; the addresses are not copied anywhere)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context, tenant_context

from branding.mail import branded_email_send
from branding.selectors import platform_brand
from shared_apps.accounts.models import AccountHolder
from shared_apps.billing.models import Invoice
from tenants import addresses
from tenants.models import Licensee

CALLRIX_CONTACT = "hello@callrix.io"


def owner_emails(licensee: Licensee) -> list[str]:
    with schema_context("public"):
        emails = set(
            AccountHolder.objects.filter(licensee_id=licensee.pk).values_list(
                "user__email", flat=True
            )
        )
    with tenant_context(licensee):
        emails |= set(
            get_user_model()
            .objects.filter(role="owner", is_active=True)
            .values_list("email", flat=True)
        )
    return sorted(emails)


def _mail(recipients: list[str], subject: str, body: str) -> None:
    # Callrix writes here as itself (the licensee is its customer): Callrix's brand.
    branded_email_send(
        to=recipients,
        subject=subject,
        paragraphs=[part.strip() for part in body.split("\n\n") if part.strip()],
        brand=platform_brand(),
        language="en",
    )


def _send(licensee: Licensee, subject: str, body: str) -> None:
    recipients = owner_emails(licensee)
    if recipients:
        _mail(recipients, subject, body)


def _open_invoice_url(licensee: Licensee) -> str:
    with schema_context("public"):
        invoice = (
            Invoice.objects.filter(licensee_id=licensee.pk, status=Invoice.Status.OPEN)
            .exclude(hosted_invoice_url="")
            .order_by("issued_at")
            .first()
        )
    return invoice.hosted_invoice_url if invoice else ""


def _pay_line(licensee: Licensee) -> str:
    url = _open_invoice_url(licensee)
    return f"You can pay the open invoice here: {url}\n\n" if url else ""


def platform_ready(licensee: Licensee) -> None:
    origin = addresses.licensee_origin(licensee.slug)
    _send(
        licensee,
        f"Your platform {licensee.display_name} is ready",
        f"Welcome to Callrix. {licensee.display_name} now runs at {origin}/\n\n"
        "Sign in with the e-mail address and password you chose when you signed up.\n",
    )


def payment_failed(licensee: Licensee, suspend_after: datetime) -> None:
    _send(
        licensee,
        f"Payment failed for {licensee.display_name}",
        "We could not collect your last Callrix payment. Your platform "
        f"{licensee.display_name} keeps working for now, but unless the invoice is paid by "
        f"{suspend_after:%d %B %Y} it will be suspended.\n\n"
        f"{_pay_line(licensee)}"
        f"Questions? Write to {CALLRIX_CONTACT}.\n",
    )


def suspended_for_payment(licensee: Licensee) -> None:
    _send(
        licensee,
        f"{licensee.display_name} is suspended",
        f"Your platform {licensee.display_name} is suspended because an invoice stayed unpaid "
        f"for {settings.DUNNING_GRACE_DAYS} days. Its data is untouched, and it serves again "
        "as soon as the invoice is paid.\n\n"
        f"{_pay_line(licensee)}"
        f"Questions? Write to {CALLRIX_CONTACT}.\n",
    )


def subscription_ended(licensee: Licensee) -> None:
    _send(
        licensee,
        f"{licensee.display_name} is suspended",
        f"Your Callrix subscription for {licensee.display_name} has ended, so the platform is "
        f"suspended. Its data is untouched. Write to {CALLRIX_CONTACT} to continue.\n",
    )


def reactivated(licensee: Licensee) -> None:
    _send(
        licensee,
        f"{licensee.display_name} is active again",
        f"Thank you: your payment arrived and {licensee.display_name} serves again at "
        f"{addresses.licensee_origin(licensee.slug)}/\n",
    )


def terminated(licensee: Licensee, recipients: list[str]) -> None:
    """Sent to addresses read before termination (the schema is still there, but its hosts no
    longer serve)."""
    until = licensee.data_retained_until
    if not recipients or until is None:
        return
    _mail(
        recipients,
        f"{licensee.display_name} is closed: your final data export",
        (
            f"Your platform {licensee.display_name} was closed on "
            f"{licensee.terminated_at:%d %B %Y} and no longer serves.\n\n"
            f"Its data is kept until {until:%d %B %Y} so that you can take a final export of "
            "everything on it (users, advisors, calls, payments) in a structured format "
            "(JSON). We are preparing that export now and will e-mail you the link to "
            "download it shortly. If it does not arrive, write to "
            f"{CALLRIX_CONTACT} before that date. After that date the data is deleted for "
            "good.\n\n"
            "Your invoices from Callrix are kept for 7 years, as tax law requires.\n"
        ),
    )
