"""Numbers read out of each licensee's schema into Callrix's public schema — a day's
usage counts (privacy policy §2.3) and a month's revenue share — never a row that identifies
anyone. Each licensee is read in its own tenant context, one at a time."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django_tenants.utils import schema_context, tenant_context

from shared_apps.billing import selectors as billing_selectors
from shared_apps.billing import services as billing_services
from shared_apps.billing.models import LicenseeUsage, RevenueShareReport
from tenants import hooks
from tenants.models import Licensee

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DayCounts:
    advisors: int
    end_users: int
    calls: int
    talk_seconds: int


@dataclass
class RunResult:
    done: list = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # slug -> error


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def month_bounds(month_start: date) -> tuple[date, date]:
    first = month_start.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


def licensee_day_counts(*, licensee: Licensee, day: date) -> DayCounts:
    """As at the end of `day` (UTC): advisors not suspended and active end users who had
    joined by then, and the calls that ended that day with their talk."""
    start, end = _day_bounds(day)
    with tenant_context(licensee):
        counts = hooks.figure_reader("usage_day_counts")(start=start, end=end)
    return DayCounts(**counts)


def usage_collect(*, day: date) -> RunResult:
    """Store `day`'s counts for every licensee still under contract (idempotent per licensee
    and day: a rerun replaces them)."""
    result = RunResult()
    with schema_context("public"):
        licensees = list(
            Licensee.objects.exclude(status=Licensee.Status.TERMINATED).order_by("slug")
        )
    for licensee in licensees:
        try:
            counts = licensee_day_counts(licensee=licensee, day=day)
            usage: LicenseeUsage = billing_services.licensee_usage_record(
                licensee_id=licensee.pk,
                day=day,
                advisors=counts.advisors,
                end_users=counts.end_users,
                calls=counts.calls,
                talk_seconds=counts.talk_seconds,
            )
        except Exception as error:
            logger.exception("Usage collection failed for %s.", licensee.slug)
            result.failed[licensee.slug] = str(error) or error.__class__.__name__
            continue
        result.done.append(usage)
    return result


def callrix_fee_minor(*, licensee: Licensee, start: datetime, end: datetime) -> int:
    """What the licensee's ledger moved into Callrix's fee account in [start, end): the
    calls' settlements, net of anything taken back."""
    with tenant_context(licensee):
        return int(hooks.figure_reader("callrix_fee_minor")(start=start, end=end))


def revenue_share_report_all(*, month_start: date) -> RunResult:
    """Report every live subscription's revenue share for the month to Stripe, once each."""
    first, following = month_bounds(month_start)
    start, end = _day_bounds(first)[0], _day_bounds(following)[0]
    result = RunResult()
    with schema_context("public"):
        subscriptions = list(billing_selectors.subscriptions_reportable())
    for subscription in subscriptions:
        licensee = subscription.licensee
        if licensee is None:  # cannot be: only provisioned licensees' subscriptions are listed
            continue
        try:
            amount = callrix_fee_minor(licensee=licensee, start=start, end=end)
            report: RevenueShareReport = billing_services.revenue_share_report(
                subscription=subscription,
                period_start=first,
                period_end=following,
                amount_minor=amount,
                currency=licensee.currency,
            )
        except Exception as error:
            logger.exception("Reporting the revenue share of %s failed.", licensee.slug)
            result.failed[licensee.slug] = str(error) or error.__class__.__name__
            continue
        result.done.append(report)
    return result


def previous_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)
