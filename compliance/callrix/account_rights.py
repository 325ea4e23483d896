"""Licensee account holders' rights over the account data Callrix holds as controller
(privacy policy §8): rectification and erasure. Access is `selectors.account_holder_export`."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context
from ninja_jwt.token_blacklist.models import OutstandingToken

from compliance.callrix import account_selectors as selectors
from identity import services as identity_services
from shared_apps.accounts.errors import AccountEmailTaken, ErasureRefused, InvalidAccountField
from shared_apps.accounts.models import AccountHolder
from shared_apps.billing import services as billing_services
from shared_apps.billing.errors import InvalidSignupField
from shared_apps.billing.models import Invoice, Subscription
from tenants.models import Licensee

_TEXT_FIELDS = {"full_name": "Your full name", "company": "The company name"}


def _invalid(error: InvalidSignupField) -> InvalidAccountField:
    return InvalidAccountField(error.detail, field=error.field)


def account_holder_update(
    *,
    holder: AccountHolder,
    full_name: str | None = None,
    company: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    billing_address: dict[str, str] | None = None,
) -> AccountHolder:
    """Rectify the account (GDPR Art. 16): only the fields given change, every check comes
    before any write. Invoices already issued keep the details they were issued with."""
    changes: dict[str, str] = {}
    for name, value in (("full_name", full_name), ("company", company)):
        if value is not None:
            value = value.strip()
            if not value:
                raise InvalidAccountField(f"{_TEXT_FIELDS[name]} is required.", field=name)
            changes[name] = value
    if phone is not None:
        phone = phone.strip()
        if phone and not billing_services.PHONE_PATTERN.match(phone):
            raise InvalidAccountField(
                "Enter the phone number with its country code, e.g. +357 25 123456.",
                field="phone",
            )
        changes["phone"] = phone
    if billing_address is not None:
        current = selectors.billing_address_of(holder)
        try:
            address = billing_services.billing_address_check({**current, **billing_address})
        except InvalidSignupField as error:
            raise _invalid(error) from None
        changes.update(
            billing_line1=address.line1,
            billing_line2=address.line2,
            billing_city=address.city,
            billing_postal_code=address.postal_code,
            billing_country=address.country,
        )
    user = holder.user
    if email is not None:
        email = identity_services.email_check(email)
    with schema_context("public"), transaction.atomic():
        for name, value in changes.items():
            setattr(holder, name, value)
        holder.save()
        user_fields = []
        if "full_name" in changes:
            user.display_name = changes["full_name"]
            user_fields.append("display_name")
        if email is not None and email != user.email:
            if get_user_model().objects.filter(email=email).exclude(pk=user.pk).exists():
                raise AccountEmailTaken(
                    "An account with this e-mail address already exists.", field="email"
                )
            user.email = email
            user_fields.append("email")
        if user_fields:
            try:
                with transaction.atomic():
                    user.save(update_fields=user_fields)
            except IntegrityError:
                raise AccountEmailTaken(
                    "An account with this e-mail address already exists.", field="email"
                ) from None
    return holder


@dataclass(frozen=True)
class ErasureReceipt:
    account_holder_id: int
    invoices_kept: int


def _erasure_blocker(holder: AccountHolder) -> str | None:
    """Why the account cannot go yet: while its contract runs, the account data is what the
    contract is performed with (GDPR Art. 17(1)(a) does not apply; Art. 6(1)(b))."""
    licensee = holder.licensee
    if licensee is not None and licensee.status != Licensee.Status.TERMINATED:
        return (
            f"Your platform {licensee.display_name} is still under contract, and we need "
            "your account to run and bill it. End the contract first (write to "
            "hello@callrix.io); once it is terminated you can erase your account."
        )
    live = (
        Subscription.objects.filter(account_holder=holder)
        .exclude(status__in=Subscription.ENDED)
        .exclude(licensee__status=Licensee.Status.TERMINATED)
    )
    if live.exists():
        return (
            "You have a subscription that is still running. Cancel it first (write to "
            "hello@callrix.io); then you can erase your account."
        )
    return None


def account_holder_erase(*, holder: AccountHolder, password: str | None) -> ErasureReceipt:
    """Erase an account holder's account data (GDPR Art. 17). `password` is the holder's
    own confirmation; staff acting on a request by e-mail, and the retention job after a
    termination, pass None.

    Invoices are kept 7 years with the name and address they were issued to: tax law
    requires an invoice to show the customer's name and address (EU VAT Directive
    2006/112/EC Art. 226) and to be kept unaltered, so erasure gives way to that legal
    obligation (GDPR Art. 17(3)(b)); the retention job deletes them when the 7 years are
    over. Support correspondence follows its own 2-year rule (policy §7)."""
    user = holder.user
    if password is not None and not user.check_password(password):
        raise InvalidAccountField("The password is wrong.", field="password")
    with schema_context("public"), transaction.atomic():
        holder = (
            AccountHolder.objects.select_for_update(of=("self",))
            .select_related("licensee")
            .get(pk=holder.pk)
        )
        blocker = _erasure_blocker(holder)
        if blocker is not None:
            raise ErasureRefused(blocker)
        invoices_kept = Invoice.objects.filter(subscription__account_holder=holder).count()
        # The staff admin's log names the holder in each entry about them.
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(AccountHolder),
            object_id=str(holder.pk),
        ).update(object_repr=f"erased account holder {holder.pk}")
        OutstandingToken.objects.filter(user_id=user.pk).delete()
        holder_id = holder.pk
        # Deleting the user takes the AccountHolder and its policy notices with it; the
        # subscription, its invoices and support requests lose the link (SET_NULL).
        get_user_model().objects.filter(pk=user.pk).delete()
    return ErasureReceipt(account_holder_id=holder_id, invoices_kept=invoices_kept)
