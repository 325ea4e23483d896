"""Talk minutes past a plan's included ones, billed through Stripe Billing: each day the
minutes the billing period has gone over by since the last report are reported to the
subscription's metered price (Stripe's meter events), and Stripe adds the period's total at
the plan's overage rate to the invoice that closes the period.

A report is first recorded (`OverageReport`, the outbox: what the day adds and the event's
`identifier`), then sent outside any transaction; a report Stripe did not answer stays pending
and goes again, with the same identifier, on the next run. Stripe refuses an identifier it
already holds (for at least 24 hours), which tells us the first attempt got through."""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django_tenants.utils import schema_context

from shared_apps.billing import selectors, stripe_gateway
from shared_apps.billing.errors import BillingUnavailable, MeterEventRefused
from shared_apps.billing.models import LicenseeUsage, OverageReport, Subscription

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BillingPeriod:
    start: datetime
    end: datetime

    @property
    def first_day(self) -> date:
        return self.start.date()


def billing_period(subscription: Subscription, *, now: datetime) -> BillingPeriod:
    """The subscription's current period as Stripe last told us; a month back from its end
    when Stripe never said when it started, a calendar month when it said nothing at all."""
    end = subscription.current_period_end
    start = subscription.current_period_start
    if end is None:
        start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = (start + timedelta(days=32)).replace(day=1)
    elif start is None:
        start = _month_before(end)
    return BillingPeriod(start=start, end=end)


def _month_before(moment: datetime) -> datetime:
    year, month = (moment.year, moment.month - 1) if moment.month > 1 else (moment.year - 1, 12)
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def period_minutes_used(*, licensee_id: int, first_day: date, through: date) -> int:
    """Talk minutes of the licensee's counted days from the period's first day through
    `through` (each UTC day belongs to the period it starts in)."""
    total = LicenseeUsage.objects.filter(
        licensee_id=licensee_id, date__gte=first_day, date__lte=through
    ).aggregate(total=Sum("talk_minutes"))["total"]
    return int(total or 0)


def overage_record(*, subscription: Subscription, day: date) -> OverageReport | None:
    """Record what `day` adds to the billing period's overage (once per subscription and
    day; a rerun returns the row already made). None when the day is outside the current
    period or the plan bills no overage."""
    licensee_id = subscription.licensee_id
    if licensee_id is None:
        return None
    now = timezone.now()
    period = billing_period(subscription, now=now)
    if not period.first_day <= day < period.end.date():
        return None
    terms = selectors.licensee_terms_at(licensee_id, now)
    if terms is None or terms.overage_minor_per_minute <= 0:
        return None
    with schema_context("public"), transaction.atomic():
        existing = OverageReport.objects.filter(subscription=subscription, day=day).first()
        if existing is not None:
            return existing
        used = period_minutes_used(licensee_id=licensee_id, first_day=period.first_day, through=day)
        over = max(0, used - terms.included_minutes)
        already = (
            OverageReport.objects.filter(
                subscription=subscription, period_start=period.first_day, day__lt=day
            ).aggregate(total=Sum("minutes"))["total"]
            or 0
        )
        try:
            with transaction.atomic():
                return OverageReport.objects.create(
                    subscription=subscription,
                    licensee_id=licensee_id,
                    day=day,
                    period_start=period.first_day,
                    included_minutes=terms.included_minutes,
                    used_minutes=used,
                    minutes=max(0, over - already),
                    overage_minor_per_minute=terms.overage_minor_per_minute,
                    currency=subscription.plan.currency,
                    identifier=f"callrix-overage-{subscription.pk}-{day:%Y-%m-%d}",
                )
        except IntegrityError:  # recorded meanwhile by another run
            return OverageReport.objects.get(subscription=subscription, day=day)


def overage_price_key(subscription: Subscription) -> str:
    plan = subscription.plan
    return stripe_gateway.overage_price_key(
        plan_code=plan.code,
        currency=plan.currency,
        rate_minor_per_minute=plan.overage_minor_per_minute,
    )


def overage_item_stale(subscription: Subscription) -> bool:
    """The metered item is on another plan's overage price (the plan changed since)."""
    return bool(subscription.stripe_overage_item_id) and (
        subscription.stripe_overage_price_key != overage_price_key(subscription)
    )


def overage_item_ensure(subscription: Subscription) -> None:
    """The subscription carries a metered item on its plan's overage price (added on the
    first report, moved when the plan changed: Stripe bills a period's usage at the price the
    item is on when the period's invoice is made). Outside any transaction: Stripe is asked
    first, the ids are saved after."""
    plan = subscription.plan
    key = overage_price_key(subscription)
    if subscription.stripe_overage_item_id and subscription.stripe_overage_price_key == key:
        return
    price_id = stripe_gateway.overage_price_id(
        plan_code=plan.code,
        plan_name=plan.name,
        rate_minor_per_minute=plan.overage_minor_per_minute,
        currency=plan.currency,
    )
    item_id = stripe_gateway.subscription_overage_item_set(
        subscription_id=subscription.stripe_subscription_id or "",
        item_id=subscription.stripe_overage_item_id,
        price_id=price_id,
        idempotency_key=f"overage-item-{subscription.pk}-{key}",
    )
    with schema_context("public"):
        Subscription.objects.filter(pk=subscription.pk).update(
            stripe_overage_item_id=item_id, stripe_overage_price_key=key
        )
    subscription.stripe_overage_item_id, subscription.stripe_overage_price_key = item_id, key


def overage_send(*, report: OverageReport) -> OverageReport:
    """Send one recorded report to Stripe (outside any transaction, with the client's
    timeouts), then mark it. An outage leaves it pending for the next run."""
    if report.reported_at is not None or report.refused_at is not None:
        return report
    if report.minutes == 0:
        return _report_mark(report, reported=True)
    subscription = Subscription.objects.select_related("plan").get(pk=report.subscription_id)
    try:
        overage_item_ensure(subscription)
        stripe_gateway.overage_minutes_report(
            customer_id=subscription.stripe_customer_id,
            minutes=report.minutes,
            identifier=report.identifier,
            # Now, inside the period the report belongs to: Stripe bills events by time.
            timestamp=timezone.now(),
        )
    except BillingUnavailable as error:
        return _report_mark(report, error=error.detail)
    except MeterEventRefused as error:
        logger.error("Overage report %s refused: %s", report.identifier, error.detail)
        return _report_mark(report, error=error.detail, refused=True)
    return _report_mark(report, reported=True)


def _report_mark(
    report: OverageReport, *, reported: bool = False, refused: bool = False, error: str = ""
) -> OverageReport:
    with schema_context("public"), transaction.atomic():
        locked = OverageReport.objects.select_for_update().get(pk=report.pk)
        if locked.reported_at is None and locked.refused_at is None:
            now = timezone.now()
            locked.attempts += 0 if locked.minutes == 0 else 1
            locked.last_error = error[:300]
            locked.reported_at = now if reported else None
            locked.refused_at = now if refused else None
            locked.save(update_fields=["attempts", "last_error", "reported_at", "refused_at"])
    return locked


def overage_pending() -> list[OverageReport]:
    """Reports not yet delivered nor refused, oldest first (after an outage, in order)."""
    with schema_context("public"):
        return list(
            OverageReport.objects.filter(
                reported_at__isnull=True, refused_at__isnull=True
            ).order_by("day", "pk")
        )


@dataclass(frozen=True)
class OverageRun:
    recorded: int
    delivered: int
    pending: int  # Stripe could not be asked; they go again on the next run
    failed: dict[str, str]  # licensee slug -> why its day could not be recorded


def overage_report_run(*, day: date) -> OverageRun:
    """Record `day`'s overage for every live subscription, then send every pending report
    (today's and any an outage held back), one at a time, each outside any transaction."""
    failed: dict[str, str] = {}
    recorded = 0
    with schema_context("public"):
        subscriptions = list(selectors.subscriptions_reportable().select_related("plan"))
    for subscription in subscriptions:
        try:
            if overage_record(subscription=subscription, day=day) is not None:
                recorded += 1
        except Exception as error:
            slug = subscription.licensee.slug if subscription.licensee else str(subscription.pk)
            logger.exception("Recording the overage of %s failed.", slug)
            failed[slug] = str(error) or error.__class__.__name__
    delivered = pending = 0
    for subscription in subscriptions:
        if overage_item_stale(subscription) and subscription.plan.overage_minor_per_minute:
            try:
                overage_item_ensure(subscription)
            except BillingUnavailable:
                pending += 1
    for report in overage_pending():
        sent = overage_send(report=report)
        if sent.reported_at is not None:
            delivered += 1
        elif sent.refused_at is None:
            pending += 1
    return OverageRun(recorded=recorded, delivered=delivered, pending=pending, failed=failed)
