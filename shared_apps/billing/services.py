"""Every change to Callrix's billing of licensees: sign-ups, Stripe's events, invoices, the
revenue share reports and usage counts. Licensees themselves (their status, their schema) are
changed by the bridge in `tenants/`, which calls these."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Min
from django.utils import timezone
from django_tenants.utils import schema_context

from identity import services as identity_services
from identity.models import User
from shared_apps.accounts.models import AccountHolder
from shared_apps.billing import selectors, stripe_gateway
from shared_apps.billing.countries import COUNTRY_CODES
from shared_apps.billing.errors import (
    BillingUnavailable,
    EmailTaken,
    EventNotApplicable,
    InvalidSignupField,
    PlanUnavailable,
)
from shared_apps.billing.models import (
    BillingEvent,
    Invoice,
    LedgerAlert,
    LicenseeTerms,
    LicenseeUsage,
    Plan,
    RevenueShareReport,
    Subscription,
)
from shared_apps.billing.stripe_gateway import PostalAddress, StripeInvoice, StripeSubscription
from tenants.errors import SlugTaken

PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 ()./-]{5,24}$")
# A later event never moves an invoice back (Stripe's order of delivery is not guaranteed).
INVOICE_STATUS_RANK = {"draft": 0, "open": 1, "uncollectible": 2, "paid": 3, "void": 3}


@dataclass(frozen=True)
class BillingAddress:
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str = ""

    def for_stripe(self) -> PostalAddress:
        return {
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "postal_code": self.postal_code,
            "country": self.country,
        }


@dataclass(frozen=True)
class SignupForm:
    """A sign-up that passed every check; nothing is stored before it does."""

    slug: str
    company: str
    full_name: str
    email: str
    phone: str
    password: str
    address: BillingAddress
    plan: Plan
    # An account holder whose earlier sign-up was never paid, signing up again.
    returning_holder_id: int | None = None


@dataclass(frozen=True)
class SignupStarted:
    subscription: Subscription
    stripe_subscription: StripeSubscription


# --- Sign-up ---------------------------------------------------------------------------------


def _required(value: str | None, field: str, label: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidSignupField(f"{label} is required.", field=field)
    return value


def billing_address_check(address: dict[str, str]) -> BillingAddress:
    """A billing address as sign-up and rectification take it; names the first bad field."""
    country = _required(address.get("country"), "billing_address.country", "The country")
    if country.upper() not in COUNTRY_CODES:
        raise InvalidSignupField(
            "The country must be an ISO 3166-1 alpha-2 code such as CY or DE.",
            field="billing_address.country",
        )
    return BillingAddress(
        line1=_required(address.get("line1"), "billing_address.line1", "The address"),
        line2=(address.get("line2") or "").strip(),
        city=_required(address.get("city"), "billing_address.city", "The city"),
        postal_code=_required(
            address.get("postal_code"), "billing_address.postal_code", "The postal code"
        ),
        country=country.upper(),
    )


def signup_validate(
    *,
    slug: str,
    company: str,
    full_name: str,
    email: str,
    phone: str,
    password: str,
    billing_address: dict[str, str],
    plan: str,
) -> SignupForm:
    """Check every field, in the order of the form, naming the first one that is wrong.
    The slug comes checked by the caller (`shared_apps.licensing.signup`), which knows
    licensees' slugs."""
    with schema_context("public"):
        company = _required(company, "company", "The company name")
        full_name = _required(full_name, "full_name", "Your full name")
        email = identity_services.email_check(email)
        returning = _returning_holder(email, password)
        phone = (phone or "").strip()
        if phone and not PHONE_PATTERN.match(phone):
            raise InvalidSignupField(
                "Enter the phone number with its country code, e.g. +357 25 123456.",
                field="phone",
            )
        candidate = User(email=email, display_name=full_name)
        identity_services.password_check(password, candidate, "password")
        address = billing_address_check(billing_address or {})
        chosen = selectors.plan_get_active(code=(plan or "").strip())
        if chosen is None:
            raise PlanUnavailable("Choose one of the plans on offer.", field="plan")
    return SignupForm(
        slug=slug,
        company=company,
        full_name=full_name,
        email=email,
        phone=phone,
        password=password,
        address=address,
        plan=chosen,
        returning_holder_id=returning.pk if returning else None,
    )


def _returning_holder(email: str, password: str) -> AccountHolder | None:
    """None for a new address. An address already in use is refused, unless it is an
    account holder's whose sign-ups all ended unpaid (e.g. the first payment never came) and
    who gives its password: they may start again. The refusal is the same either way."""
    user = get_user_model().objects.filter(email=email).first()
    if user is None:
        return None
    holder = AccountHolder.objects.filter(user=user, licensee__isnull=True).first()
    live = Subscription.objects.filter(account_holder=holder).exclude(status__in=Subscription.ENDED)
    if holder is None or live.exists() or not user.check_password(password):
        raise EmailTaken("An account with this e-mail address already exists.", field="email")
    return holder


def _account_holder_open(form: SignupForm) -> AccountHolder:
    details = {
        "full_name": form.full_name,
        "company": form.company,
        "phone": form.phone,
        "billing_line1": form.address.line1,
        "billing_line2": form.address.line2,
        "billing_city": form.address.city,
        "billing_postal_code": form.address.postal_code,
        "billing_country": form.address.country,
    }
    if form.returning_holder_id is not None:
        holder = AccountHolder.objects.select_for_update().get(pk=form.returning_holder_id)
        for name, value in details.items():
            setattr(holder, name, value)
        holder.save()
        return holder
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(
                form.email,
                form.password,
                role=User.Role.ACCOUNT_HOLDER,
                display_name=form.full_name,
            )
    except IntegrityError:
        raise EmailTaken(
            "An account with this e-mail address already exists.", field="email"
        ) from None
    return AccountHolder.objects.create(user=user, **details)


def signup_start(*, form: SignupForm) -> SignupStarted:
    """Open the account holder and start the subscription on Callrix's Stripe account.

    Runs in the caller's transaction: a refusal from Stripe or the database leaves nothing
    behind here, and a subscription Stripe already started is cancelled again."""
    attempt = uuid.uuid4().hex  # idempotency keys for this attempt's Stripe calls
    with schema_context("public"), transaction.atomic():
        holder = _account_holder_open(form)
        try:
            with transaction.atomic():
                subscription = Subscription.objects.create(
                    account_holder=holder, plan=form.plan, slug=form.slug, company=form.company
                )
        except IntegrityError:
            raise SlugTaken(f"The slug '{form.slug}' is already taken.", field="slug") from None
        customer_id = stripe_gateway.customer_create(
            company=form.company,
            email=form.email,
            phone=form.phone,
            address=form.address.for_stripe(),
            metadata={"account_holder": str(holder.pk), "slug": form.slug},
            idempotency_key=f"signup:{attempt}:customer",
        )
        price_id = stripe_gateway.plan_price_id(
            plan_code=form.plan.code,
            plan_name=form.plan.name,
            monthly_fee_minor=form.plan.monthly_fee_minor,
            currency=form.plan.currency,
        )
        started = stripe_gateway.subscription_create(
            customer_id=customer_id,
            price_id=price_id,
            trial_days=form.plan.trial_days,
            metadata={"subscription": str(subscription.pk), "slug": form.slug},
            idempotency_key=f"signup:{attempt}:subscription",
        )
        try:
            with transaction.atomic():
                subscription.stripe_customer_id = customer_id
                subscription.stripe_subscription_id = started.id
                subscription.status = started.status
                subscription.current_period_start = started.current_period_start
                subscription.current_period_end = started.current_period_end
                subscription.trial_end = started.trial_end
                subscription.save()
                if started.latest_invoice is not None:
                    invoice_upsert(subscription=subscription, data=started.latest_invoice)
        except Exception:
            stripe_subscription_cancel_quietly(started.id)
            raise
    return SignupStarted(subscription=subscription, stripe_subscription=started)


def stripe_subscription_cancel_quietly(stripe_subscription_id: str) -> None:
    """Undo a subscription whose sign-up is being rolled back. Stripe being down must not
    hide the original error; the subscription stays `incomplete` and expires by itself."""
    try:
        stripe_gateway.subscription_cancel(subscription_id=stripe_subscription_id)
    except BillingUnavailable:
        pass


def subscription_link_licensee(*, subscription: Subscription, licensee_id: int) -> Subscription:
    """Record the licensee provisioned for this subscription, on it and its account holder."""
    with schema_context("public"), transaction.atomic():
        subscription.licensee_id = licensee_id
        subscription.save(update_fields=["licensee"])
        Invoice.objects.filter(subscription=subscription, licensee__isnull=True).update(
            licensee_id=licensee_id
        )
        if subscription.account_holder_id:
            AccountHolder.objects.filter(pk=subscription.account_holder_id).update(
                licensee_id=licensee_id
            )
    return subscription


# --- Stripe's events ---------------------------------------------------------------------------


def stripe_event_record(*, payload: bytes, signature: str) -> tuple[BillingEvent, bool]:
    """Verify a webhook with Callrix's signing secret and store it once by id. Returns the
    event and whether it is new."""
    event = stripe_gateway.webhook_event_parse(payload=payload, signature=signature)
    with schema_context("public"):
        stored, created = BillingEvent.objects.get_or_create(
            event_id=event["id"], defaults={"type": event["type"], "payload": event}
        )
    return stored, created


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def invoice_retain_until(issued_at: datetime) -> date:
    """Invoices are tax records: kept 7 years from their date (privacy policy §7)."""
    return _years_after(issued_at.date(), Invoice.RETENTION_YEARS)


def _invoice_locked(stripe_invoice_id: str) -> Invoice | None:
    return Invoice.objects.select_for_update().filter(stripe_invoice_id=stripe_invoice_id).first()


def invoice_upsert(
    *,
    subscription: Subscription,
    data: StripeInvoice,
    payment_failed_at: datetime | None = None,
) -> Invoice:
    """Store Stripe's view of an invoice. Amounts follow the latest state Stripe sent; the
    status only moves forward, so a stale or replayed event changes nothing."""
    fields = {
        "number": data.number,
        "billing_reason": data.billing_reason,
        "currency": data.currency,
        "subtotal_minor": data.subtotal_minor,
        "tax_minor": data.tax_minor,
        "total_minor": data.total_minor,
        "amount_paid_minor": data.amount_paid_minor,
        "amount_due_minor": data.amount_due_minor,
        "tax_details": data.tax_details,
        "customer_name": data.customer_name,
        "customer_address": data.customer_address,
        "period_start": data.period_start,
        "period_end": data.period_end,
        "issued_at": data.created,
        "hosted_invoice_url": data.hosted_invoice_url,
        "lines": [
            {
                "description": line.description,
                "amount_minor": line.amount_minor,
                "quantity": line.quantity,
                # The metered item bills talk minutes past the plan's included ones.
                "overage": bool(
                    line.subscription_item_id
                    and line.subscription_item_id == subscription.stripe_overage_item_id
                ),
            }
            for line in data.lines
        ],
        "retain_until": invoice_retain_until(data.created),
    }
    with transaction.atomic():
        invoice = _invoice_locked(data.id)
        if invoice is None:
            try:
                with transaction.atomic():
                    Invoice.objects.create(
                        subscription=subscription,
                        licensee_id=subscription.licensee_id,
                        stripe_invoice_id=data.id,
                        status=data.status,
                        paid_at=data.paid_at,
                        payment_failed_at=payment_failed_at,
                        **fields,
                    )
            except IntegrityError:  # stored meanwhile by another event's job
                pass
            invoice = Invoice.objects.select_for_update().get(stripe_invoice_id=data.id)
            if invoice.status == data.status and invoice.paid_at == data.paid_at:
                return invoice
        if INVOICE_STATUS_RANK.get(data.status, 0) >= INVOICE_STATUS_RANK.get(invoice.status, 0):
            for name, value in fields.items():
                setattr(invoice, name, value)
            invoice.status = data.status
            invoice.paid_at = data.paid_at or invoice.paid_at
        if payment_failed_at and invoice.payment_failed_at is None:
            invoice.payment_failed_at = payment_failed_at
        invoice.save()
    return invoice


def subscription_for_event(*, stripe_subscription_id: str | None) -> Subscription:
    """The subscription an event is about, locked; unknown ones make the job retry (the
    sign-up that started it may not have committed yet)."""
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan", "licensee")
        .filter(stripe_subscription_id=stripe_subscription_id or "")
        .first()
    )
    if subscription is None:
        raise EventNotApplicable(f"No subscription {stripe_subscription_id!r} (yet).")
    return subscription


def subscription_sync(
    *,
    subscription: Subscription,
    data: StripeSubscription,
    event_created: int,
    is_creation: bool = False,
) -> Subscription:
    """Take Stripe's subscription status unless this event is older than the one that set
    it (within one second, a creation comes before any update); an ended subscription stays
    ended."""
    last = subscription.status_event_created
    if subscription.has_ended or event_created < last or (event_created == last and is_creation):
        return subscription
    subscription.status = data.status
    subscription.status_event_created = event_created
    subscription.current_period_start = (
        data.current_period_start or subscription.current_period_start
    )
    subscription.current_period_end = data.current_period_end or subscription.current_period_end
    subscription.trial_end = data.trial_end or subscription.trial_end
    if subscription.has_ended:
        subscription.canceled_at = data.canceled_at or timezone.now()
    subscription.save()
    return subscription


def subscription_standing_refresh(*, subscription: Subscription) -> Subscription:
    """Owing since the first failed payment of an invoice still unpaid, else not owing.
    Invoices decide, not Stripe's subscription status: their order of arrival cannot fool
    this (a late `invoice.paid` for last month does not clear this month's failure)."""
    first_failure = subscription.invoices.filter(
        status__in=[Invoice.Status.OPEN, Invoice.Status.UNCOLLECTIBLE],
        payment_failed_at__isnull=False,
    ).aggregate(since=Min("payment_failed_at"))["since"]
    if first_failure != subscription.past_due_since:
        subscription.past_due_since = first_failure
        subscription.save(update_fields=["past_due_since"])
    return subscription


def subscription_mark_dunning_suspended(
    *, subscription: Subscription, suspended: bool
) -> Subscription:
    subscription.dunning_suspended_at = timezone.now() if suspended else None
    subscription.save(update_fields=["dunning_suspended_at"])
    return subscription


INVOICE_EVENTS = (
    "invoice.created",
    "invoice.finalized",
    "invoice.updated",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "invoice.voided",
    "invoice.marked_uncollectible",
)
SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)


def stripe_event_apply(*, event: BillingEvent) -> Subscription | None:
    """Apply one stored event to our invoices and subscriptions, in the caller's
    transaction. Returns the subscription it concerned (its standing refreshed), or None for
    an event we do not act on."""
    obj = event.payload["data"]["object"]
    happened_at = datetime.fromtimestamp(int(event.payload.get("created") or 0), tz=UTC)
    if event.type in INVOICE_EVENTS:
        invoice_data = stripe_gateway.invoice_parse(obj)
        if invoice_data.subscription_id is None:
            return None
        subscription = subscription_for_event(stripe_subscription_id=invoice_data.subscription_id)
        failed = event.type == "invoice.payment_failed"
        invoice_upsert(
            subscription=subscription,
            data=invoice_data,
            payment_failed_at=happened_at if failed else None,
        )
    elif event.type in SUBSCRIPTION_EVENTS:
        subscription_data = stripe_gateway.subscription_parse(obj)
        subscription = subscription_for_event(stripe_subscription_id=subscription_data.id)
        subscription_sync(
            subscription=subscription,
            data=subscription_data,
            event_created=int(event.payload.get("created") or 0),
            is_creation=event.type == "customer.subscription.created",
        )
    else:
        return None
    return subscription_standing_refresh(subscription=subscription)


def subscription_cancel_in_stripe(*, subscription_id: int) -> None:
    """End the Stripe subscription of a terminated licensee (Stripe's
    `customer.subscription.deleted` then records it here)."""
    subscription = Subscription.objects.filter(pk=subscription_id).first()
    if subscription is None or not subscription.stripe_subscription_id or subscription.has_ended:
        return
    stripe_gateway.subscription_cancel(subscription_id=subscription.stripe_subscription_id)


def billing_event_finish(*, event: BillingEvent, outcome: str) -> None:
    event.processed_at = timezone.now()
    event.outcome = outcome[:300]
    event.save(update_fields=["processed_at", "outcome"])


# --- Revenue share and usage ------------------------------------------------------------------


def revenue_share_report(
    *,
    subscription: Subscription,
    period_start: date,
    period_end: date,
    amount_minor: int,
    currency: str,
) -> RevenueShareReport:
    """Report one month's Callrix fee to Stripe as an invoice item on the subscription's next
    invoice — once per subscription and month, whatever runs it how often. The idempotency
    key makes a retry after a crash between Stripe's answer and our save a replay."""
    with schema_context("public"), transaction.atomic():
        try:
            with transaction.atomic():
                RevenueShareReport.objects.get_or_create(
                    subscription=subscription,
                    period_start=period_start,
                    defaults={
                        "licensee_id": subscription.licensee_id,
                        "period_end": period_end,
                        "amount_minor": amount_minor,
                        "currency": currency,
                    },
                )
        except IntegrityError:
            pass
        report = RevenueShareReport.objects.select_for_update().get(
            subscription=subscription, period_start=period_start
        )
        if report.reported_at is not None:
            return report
        report.amount_minor, report.currency = amount_minor, currency
        if amount_minor > 0:
            start = datetime.combine(period_start, datetime.min.time(), tzinfo=UTC)
            end = datetime.combine(period_end, datetime.min.time(), tzinfo=UTC)
            report.stripe_invoice_item_id = stripe_gateway.invoice_item_create(
                customer_id=subscription.stripe_customer_id,
                subscription_id=subscription.stripe_subscription_id or "",
                amount_minor=amount_minor,
                currency=currency,
                description=f"Revenue share on calls, {period_start:%B %Y}",
                period=(start, end),
                metadata={"subscription": str(subscription.pk), "period": f"{period_start:%Y-%m}"},
                idempotency_key=f"revenue-share:{subscription.pk}:{period_start:%Y-%m}",
            )
        report.reported_at = timezone.now()
        report.save()
    return report


def licensee_usage_record(
    *,
    licensee_id: int,
    day: date,
    advisors: int,
    end_users: int,
    calls: int,
    talk_seconds: int,
) -> LicenseeUsage:
    """Store one day's counts for a licensee; running it again replaces them."""
    with schema_context("public"):
        usage, _ = LicenseeUsage.objects.update_or_create(
            licensee_id=licensee_id,
            date=day,
            defaults={
                "advisors": advisors,
                "end_users": end_users,
                "calls": calls,
                "talk_seconds": talk_seconds,
                "talk_minutes": -(-talk_seconds // 60),
            },
        )
    return usage


# --- Contract terms, effective-dated -------------------------------------------------------


def terms_record(
    *,
    licensee_id: int,
    plan: Plan,
    reason: str,
    effective_from: datetime | None = None,
    changed_by_id: int | None = None,
) -> LicenseeTerms:
    """Add the plan's current terms to the licensee's history from `effective_from` (now by
    default; never earlier than now, so no settled call is ever billed under other terms)."""
    now = timezone.now()
    effective = max(effective_from or now, now)
    with schema_context("public"):
        return LicenseeTerms.objects.create(
            licensee_id=licensee_id,
            plan=plan,
            revenue_share_bps=plan.revenue_share_bps,
            included_advisors=plan.included_advisors,
            included_minutes=plan.included_minutes,
            overage_minor_per_minute=plan.overage_minor_per_minute,
            effective_from=effective,
            reason=reason,
            changed_by_id=changed_by_id,
        )


def plan_terms_changed(*, plan: Plan, changed_by_id: int | None = None) -> list[int]:
    """Staff edited a plan's fee or what it includes: from now on it applies to every live
    licensee on the plan (calls already started keep the terms they started under).
    Returns the licensees' ids."""
    with schema_context("public"), transaction.atomic():
        licensee_ids = list(
            Subscription.objects.filter(plan=plan, licensee__isnull=False)
            .exclude(status__in=Subscription.ENDED)
            .values_list("licensee_id", flat=True)
        )
        for licensee_id in licensee_ids:
            terms_record(
                licensee_id=licensee_id,
                plan=plan,
                reason=LicenseeTerms.Reason.PLAN_EDIT,
                changed_by_id=changed_by_id,
            )
    return licensee_ids


# --- Books watched -------------------------------------------------------------------------


def ledger_check_record(*, licensee_id: int, breaches: list[str]) -> LedgerAlert | None:
    """Record the nightly check's outcome: breaches open (or refresh) the licensee's one open
    alert, which pauses its payouts. A clean night resolves nothing: staff do, once they know
    why the books broke. Returns the alert when it is new."""
    if not breaches:
        return None
    with schema_context("public"), transaction.atomic():
        alert = (
            LedgerAlert.objects.select_for_update()
            .filter(licensee_id=licensee_id, resolved_at__isnull=True)
            .first()
        )
        if alert is not None:
            alert.breaches = breaches[:200]
            alert.save(update_fields=["breaches", "last_seen_at"])
            return None
        return LedgerAlert.objects.create(licensee_id=licensee_id, breaches=breaches[:200])


def ledger_alert_resolve(*, alert_id: int, staff_id: int, resolution: str) -> LedgerAlert:
    """Staff close an alert: the licensee's payouts resume with the next run."""
    with schema_context("public"), transaction.atomic():
        alert = LedgerAlert.objects.select_for_update().get(pk=alert_id)
        if alert.resolved_at is None:
            alert.resolved_at = timezone.now()
            alert.resolved_by_id = staff_id
            alert.resolution = (resolution or "").strip()[:500]
            alert.save(update_fields=["resolved_at", "resolved_by_id", "resolution"])
    return alert
