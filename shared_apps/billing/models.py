"""Callrix's billing of its licensees (public schema; Callrix is the controller): plans,
subscriptions on Callrix's own Stripe account, invoices, Stripe's events, the revenue share
reported each month, usage counts and support correspondence (privacy policy §2.1–2.4)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from kernel import money

CURRENCY_FORMAT = Q(currency__regex=r"^[A-Z]{3}$")


class Plan(models.Model):
    """What a licensee rents, managed by staff. Stripe prices are found by a lookup key made
    from the code, fee and currency, so changing the fee starts a new Stripe price."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    monthly_fee_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="EUR")
    included_advisors = models.PositiveIntegerField(default=0)
    included_minutes = models.PositiveIntegerField(default=0)
    revenue_share_bps = models.PositiveIntegerField(
        default=1_000, help_text="Callrix's share of each call's charge, in basis points."
    )
    overage_minor_per_minute = models.BigIntegerField(
        default=0,
        help_text=(
            "What each talk minute past the included ones costs, in the plan currency's minor "
            "units (0 = minutes past the included ones are not billed)."
        ),
    )
    trial_days = models.PositiveIntegerField(default=0, help_text="0 = paid from the start.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="plan_fee_not_negative", condition=Q(monthly_fee_minor__gte=0)
            ),
            models.CheckConstraint(name="plan_currency_iso4217", condition=CURRENCY_FORMAT),
            models.CheckConstraint(
                name="plan_revenue_share_within_whole", condition=Q(revenue_share_bps__lte=10_000)
            ),
            models.CheckConstraint(
                name="plan_overage_not_negative", condition=Q(overage_minor_per_minute__gte=0)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        # Licensees inherit the plan's currency: only those Stripe takes payments in.
        if not money.is_supported(self.currency):
            raise ValidationError(
                {"currency": f"{self.currency} is not a currency Stripe takes payments in."}
            )


class LicenseeTerms(models.Model):
    """Effective-dated history of a licensee's contract terms: from `effective_from` on, its
    calls pay `revenue_share_bps` to Callrix and its plan includes what is copied here. Rows
    are only added (sign-up, a plan change, staff editing a plan), so the terms of any past
    moment stay readable and a change never rewrites calls settled before it."""

    class Reason(models.TextChoices):
        SIGNUP = "signup"
        PLAN_CHANGE = "plan_change"
        PLAN_EDIT = "plan_edit"

    licensee = models.ForeignKey(
        "tenants.Licensee", on_delete=models.CASCADE, related_name="terms_history"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="terms")
    revenue_share_bps = models.PositiveIntegerField()
    included_advisors = models.PositiveIntegerField()
    included_minutes = models.PositiveIntegerField()
    overage_minor_per_minute = models.BigIntegerField(default=0)
    effective_from = models.DateTimeField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    changed_by_id = models.BigIntegerField(null=True, blank=True)  # the staff user, if any
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "licensee terms"
        indexes = [models.Index(fields=["licensee", "-effective_from"])]
        constraints = [
            models.CheckConstraint(
                name="terms_revenue_share_within_whole", condition=Q(revenue_share_bps__lte=10_000)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.licensee_id} on {self.plan_id} from {self.effective_from:%Y-%m-%d %H:%M}"


class LedgerAlert(models.Model):
    """A breach the nightly ledger check found in a licensee's books (transaction ids, account
    ids and sums only, never a person). While unresolved, the licensee's advisor payouts are
    paused; staff resolve it in the admin once the books are put right."""

    licensee = models.ForeignKey(
        "tenants.Licensee", on_delete=models.CASCADE, related_name="ledger_alerts"
    )
    breaches = models.JSONField(default=list)
    found_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by_id = models.BigIntegerField(null=True, blank=True)
    resolution = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            # One open alert per licensee; later nights update it.
            models.UniqueConstraint(
                fields=["licensee"],
                condition=Q(resolved_at__isnull=True),
                name="ledger_alert_one_open_per_licensee",
            ),
        ]

    def __str__(self) -> str:
        state = "resolved" if self.resolved_at else "open"
        return f"ledger alert {self.licensee_id} ({state}, {len(self.breaches)} breach(es))"


class Subscription(models.Model):
    """One licensee's contract on Callrix's Stripe account. It reserves its slug from sign-up
    until the licensee is provisioned (first payment, or at once on a trial)."""

    class Status(models.TextChoices):
        # Stripe's subscription statuses
        INCOMPLETE = "incomplete"
        INCOMPLETE_EXPIRED = "incomplete_expired"
        TRIALING = "trialing"
        ACTIVE = "active"
        PAST_DUE = "past_due"
        UNPAID = "unpaid"
        CANCELED = "canceled"
        PAUSED = "paused"

    ENDED = (Status.INCOMPLETE_EXPIRED, Status.CANCELED)

    # SET_NULL: an account holder's data goes 30 days after termination, the contract's
    # invoices stay 7 years (privacy policy §7).
    account_holder = models.ForeignKey(
        "accounts.AccountHolder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="subscriptions",
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    slug = models.CharField(max_length=40)
    company = models.CharField(max_length=200)
    licensee = models.OneToOneField(
        "tenants.Licensee",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="subscription",
    )
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INCOMPLETE)
    # `created` of the Stripe event that last set `status`: older events never overwrite it.
    status_event_created = models.BigIntegerField(default=0)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    # The metered item that bills minutes past the included ones, and the price it is on
    # (found by lookup key: plan code, currency, rate), added when the first overage is due.
    stripe_overage_item_id = models.CharField(max_length=255, blank=True)
    stripe_overage_price_key = models.CharField(max_length=255, blank=True)
    # Dunning: since when an invoice has stayed unpaid after a failed payment, and whether
    # the licensee was suspended for it (only such a suspension ends with a payment).
    past_due_since = models.DateTimeField(null=True, blank=True)
    dunning_suspended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    canceled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # A slug is held by at most one live sign-up; an expired one frees it.
            models.UniqueConstraint(
                fields=["slug"],
                condition=~Q(status__in=["incomplete_expired", "canceled"]),
                name="subscription_live_slug_unique",
            ),
            models.CheckConstraint(
                name="subscription_status_valid",
                condition=Q(
                    status__in=[
                        "incomplete",
                        "incomplete_expired",
                        "trialing",
                        "active",
                        "past_due",
                        "unpaid",
                        "canceled",
                        "paused",
                    ]
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slug} on {self.plan_id} ({self.status})"

    @property
    def has_ended(self) -> bool:
        return self.status in self.ENDED


class Invoice(models.Model):
    """A Stripe invoice to a licensee, kept 7 years for tax and accounting (privacy policy
    §7) — longer than the licensee, its account holder or its subscription's Stripe data."""

    class Status(models.TextChoices):
        DRAFT = "draft"
        OPEN = "open"
        PAID = "paid"
        UNCOLLECTIBLE = "uncollectible"
        VOID = "void"

    RETENTION_YEARS = 7

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="invoices"
    )
    licensee = models.ForeignKey(
        "tenants.Licensee",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
    )
    stripe_invoice_id = models.CharField(max_length=255, unique=True)
    number = models.CharField(max_length=100, blank=True)
    billing_reason = models.CharField(max_length=40, blank=True)
    currency = models.CharField(max_length=3)
    subtotal_minor = models.BigIntegerField()
    tax_minor = models.BigIntegerField()
    total_minor = models.BigIntegerField()
    amount_paid_minor = models.BigIntegerField(default=0)
    amount_due_minor = models.BigIntegerField(default=0)
    # The tax lines and the billed party as Stripe put them on the invoice.
    tax_details = models.JSONField(default=list, blank=True)
    customer_name = models.CharField(max_length=200, blank=True)
    customer_address = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    issued_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    hosted_invoice_url = models.URLField(max_length=500, blank=True)
    # The invoice's lines as Stripe listed them: description, amount_minor, quantity, and
    # whether the line bills talk minutes past the plan's included ones (`overage`).
    lines = models.JSONField(default=list, blank=True)
    retain_until = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(name="invoice_currency_iso4217", condition=CURRENCY_FORMAT),
            models.CheckConstraint(name="invoice_tax_not_negative", condition=Q(tax_minor__gte=0)),
            models.CheckConstraint(
                name="invoice_period_ordered", condition=Q(period_end__gte=F("period_start"))
            ),
            models.CheckConstraint(
                name="invoice_retained_seven_years",
                condition=Q(retain_until__gte=F("issued_at__date") + timedelta(days=7 * 365)),
            ),
            models.CheckConstraint(
                name="invoice_status_valid",
                condition=Q(status__in=["draft", "open", "paid", "uncollectible", "void"]),
            ),
        ]
        indexes = [models.Index(fields=["subscription", "status"])]

    def __str__(self) -> str:
        return self.number or self.stripe_invoice_id


class BillingEvent(models.Model):
    """Each verified webhook event from Callrix's own Stripe account, stored once by id and
    applied by a job."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class RevenueShareReport(models.Model):
    """Callrix's fee a licensee's ledger collected in one month, reported to Stripe once as an
    invoice item on the licensee's next invoice."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="revenue_share_reports"
    )
    licensee = models.ForeignKey(
        "tenants.Licensee",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="revenue_share_reports",
    )
    period_start = models.DateField()
    period_end = models.DateField()  # exclusive
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    stripe_invoice_item_id = models.CharField(max_length=255, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start"], name="revenue_share_once_per_period"
            ),
            models.CheckConstraint(
                name="revenue_share_period_ordered", condition=Q(period_end__gt=F("period_start"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.period_start:%Y-%m}: {self.amount_minor}"


class OverageReport(models.Model):
    """One day's talk minutes past the plan's included ones, reported to the subscription's
    metered price on Stripe once (the outbox of that report). `minutes` is what this day
    adds to the billing period's overage; Stripe's `identifier` for the event is fixed when
    the row is made, so a retry after an outage is the same event, never a second one."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="overage_reports"
    )
    licensee = models.ForeignKey(
        "tenants.Licensee",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="overage_reports",
    )
    day = models.DateField()
    period_start = models.DateField()  # the first day of the billing period the day is in
    included_minutes = models.PositiveIntegerField()
    used_minutes = models.PositiveIntegerField()  # the period's talk minutes through `day`
    minutes = models.PositiveIntegerField()  # the overage this day adds
    overage_minor_per_minute = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    identifier = models.CharField(max_length=100, unique=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    refused_at = models.DateTimeField(null=True, blank=True)  # Stripe refused it for good
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "day"], name="overage_once_per_day"),
            models.CheckConstraint(
                name="overage_day_in_period", condition=Q(day__gte=F("period_start"))
            ),
        ]
        indexes = [models.Index(fields=["subscription", "period_start"])]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.day}: +{self.minutes} min"


class LicenseeUsage(models.Model):
    """One day's counts for a licensee (privacy policy §2.3): numbers only, never anything
    about an end user."""

    licensee = models.ForeignKey(
        "tenants.Licensee", on_delete=models.CASCADE, related_name="usage_days"
    )
    date = models.DateField()
    advisors = models.PositiveIntegerField()
    end_users = models.PositiveIntegerField()
    calls = models.PositiveIntegerField()
    talk_seconds = models.PositiveBigIntegerField()
    talk_minutes = models.PositiveIntegerField()  # talk_seconds rounded up, as plans count
    collected_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["licensee", "date"], name="usage_once_per_day"),
        ]
        verbose_name_plural = "licensee usage"

    def __str__(self) -> str:
        return f"{self.licensee_id} {self.date}"


class SupportRequest(models.Model):
    """A licensee's support request to Callrix (communication data, privacy policy §2.4),
    kept 2 years after `last_interaction_at`."""

    class Status(models.TextChoices):
        OPEN = "open"
        WAITING = "waiting"
        CLOSED = "closed"

    licensee = models.ForeignKey(
        "tenants.Licensee",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_requests",
    )
    account_holder = models.ForeignKey(
        "accounts.AccountHolder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="support_requests",
    )
    contact_email = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=20_000)
    channel = models.CharField(max_length=16, default="email")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    last_interaction_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.subject


class StaffNote(models.Model):
    """A Callrix staff member's note about a licensee, e.g. from an onboarding call
    (communication data, privacy policy §2.4), kept 2 years after `last_interaction_at`."""

    class Kind(models.TextChoices):
        ONBOARDING_CALL = "onboarding_call"
        SUPPORT = "support"
        ACCOUNT = "account"

    licensee = models.ForeignKey(
        "tenants.Licensee",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff_notes",
    )
    support_request = models.ForeignKey(
        SupportRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="notes"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    body = models.TextField(max_length=20_000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_interaction_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} note on {self.licensee_id}"
