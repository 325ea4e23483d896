from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django_tenants.utils import schema_context

from shared_apps.billing.models import Invoice, LedgerAlert, LicenseeTerms, Plan, Subscription
from tenants import hooks


def plan_get_active(*, code: str) -> Plan | None:
    with schema_context("public"):
        return Plan.objects.filter(code=code, active=True).first()


def plan_list_active() -> QuerySet[Plan]:
    return Plan.objects.filter(active=True).order_by("monthly_fee_minor", "code")


def slug_reserved(*, slug: str) -> bool:
    """A sign-up still waiting for its first payment holds this slug."""
    with schema_context("public"):
        return (
            Subscription.objects.filter(slug=slug).exclude(status__in=Subscription.ENDED).exists()
        )


def subscription_for_licensee(*, licensee_id: int) -> Subscription | None:
    with schema_context("public"):
        return (
            Subscription.objects.select_related("plan", "account_holder__user")
            .filter(licensee_id=licensee_id)
            .first()
        )


def subscriptions_owing_since(*, before: datetime) -> QuerySet[Subscription]:
    """Subscriptions of provisioned licensees with an invoice unpaid since before `before`."""
    return Subscription.objects.filter(
        licensee__isnull=False, past_due_since__isnull=False, past_due_since__lte=before
    ).select_related("licensee", "plan")


def subscriptions_reportable() -> QuerySet[Subscription]:
    """Live subscriptions of provisioned licensees: those whose next invoice can carry the
    revenue share."""
    return (
        Subscription.objects.filter(licensee__isnull=False, stripe_subscription_id__isnull=False)
        .exclude(status__in=[*Subscription.ENDED, Subscription.Status.INCOMPLETE])
        .select_related("licensee")
        .order_by("pk")
    )


def invoices_for_licensee(*, licensee_id: int) -> QuerySet[Invoice]:
    return Invoice.objects.filter(licensee_id=licensee_id).order_by("-issued_at")


def grace_cutoff(*, now: datetime, grace_days: int) -> datetime:
    return now - timedelta(days=grace_days)


def subscription_for_status(*, subscription_id: int) -> Subscription | None:
    return (
        Subscription.objects.select_related("plan", "licensee").filter(pk=subscription_id).first()
    )


def licensee_terms_at(
    licensee_id: int, at: datetime, *, with_upgrade: bool = False
) -> hooks.LicenseeTerms | None:
    """The terms row in force at `at` (the latest effective at or before it). Public tables
    are on every licensee's search path, so this reads from either side without switching."""
    row = (
        LicenseeTerms.objects.filter(licensee_id=licensee_id, effective_from__lte=at)
        .select_related("plan")
        .order_by("-effective_from", "-id")
        .first()
    )
    if row is None:
        return None
    upgrade = None
    if with_upgrade and row.included_advisors:
        upgrade = (
            Plan.objects.filter(
                active=True,
                currency=row.plan.currency,
                included_advisors__gt=row.included_advisors,
            )
            .order_by("included_advisors", "monthly_fee_minor")
            .first()
        )
    return hooks.LicenseeTerms(
        plan_code=row.plan.code,
        plan_name=row.plan.name,
        revenue_share_bps=row.revenue_share_bps,
        included_advisors=row.included_advisors,
        included_minutes=row.included_minutes,
        effective_from=row.effective_from,
        upgrade_plan_name=upgrade.name if upgrade else None,
        upgrade_included_advisors=upgrade.included_advisors if upgrade else None,
        overage_minor_per_minute=row.overage_minor_per_minute,
    )


def payouts_pause_reason(licensee_id: int) -> str | None:
    """Why the licensee's advisor payouts are paused on Callrix's side, or None."""
    alert = (
        LedgerAlert.objects.filter(licensee_id=licensee_id, resolved_at__isnull=True)
        .only("found_at")
        .first()
    )
    if alert is None:
        return None
    return (
        f"Payouts are paused: the ledger check of {alert.found_at:%Y-%m-%d} found a breach "
        "that is being investigated."
    )
