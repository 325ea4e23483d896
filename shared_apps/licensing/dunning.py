"""Bridge: a licensee's status follows its standing with Callrix's billing.

Stripe's events (stored by `shared_apps.licensing.webhooks`) update invoices and subscriptions in
the public schema; then the licensee's status is brought in line here, the one place billing
changes it: a failed payment makes it `past_due` (its users keep working), an invoice still
unpaid after `DUNNING_GRACE_DAYS` suspends it (the daily job), a payment makes it active
again. Only a suspension for non-payment ends with a payment: one by staff stays.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from shared_apps.billing import services as billing_services
from shared_apps.billing.errors import EventNotApplicable
from shared_apps.billing.models import BillingEvent, Subscription
from shared_apps.licensing import notices
from shared_apps.licensing.signup import licensee_provision_for, provisioning_due
from tenants import services
from tenants.models import Licensee

logger = logging.getLogger(__name__)

Status = Licensee.Status
# An event about a subscription we never heard of is retried this long (its sign-up may still
# be committing), then recorded as not ours.
UNKNOWN_SUBSCRIPTION_PATIENCE = timedelta(hours=1)


def _grace() -> timedelta:
    return timedelta(days=settings.DUNNING_GRACE_DAYS)


def standing_target(
    *, licensee_status: str, subscription: Subscription, now: datetime
) -> str | None:
    """The status the licensee should move to, or None to leave it as it is."""
    if licensee_status == Status.TERMINATED:
        return None
    if subscription.has_ended:
        return Status.SUSPENDED if licensee_status != Status.SUSPENDED else None
    owing_since = subscription.past_due_since
    if owing_since is not None:
        if licensee_status in (Status.ACTIVE, Status.TRIAL):
            return Status.PAST_DUE
        if licensee_status == Status.PAST_DUE and now - owing_since >= _grace():
            return Status.SUSPENDED
        return None
    in_good_standing = (
        Status.TRIAL if subscription.status == Subscription.Status.TRIALING else Status.ACTIVE
    )
    if licensee_status in (Status.PAST_DUE, Status.TRIAL, Status.ACTIVE) or (
        licensee_status == Status.SUSPENDED and subscription.dunning_suspended_at is not None
    ):
        return in_good_standing if licensee_status != in_good_standing else None
    return None


def licensee_standing_apply(*, subscription: Subscription, now: datetime | None = None) -> str:
    """Move the subscription's licensee to the status its standing calls for; tells what
    changed. Runs in the caller's transaction; e-mails go after commit."""
    if subscription.licensee_id is None:
        return "not provisioned"
    now = now or timezone.now()
    with schema_context("public"):
        licensee = Licensee.objects.get(pk=subscription.licensee_id)
        before = licensee.status
        target = standing_target(licensee_status=before, subscription=subscription, now=now)
        if target is None:
            return f"stays {before}"
        licensee = services.licensee_set_status(slug=licensee.slug, status=target)
        for_payment = target == Status.SUSPENDED and subscription.past_due_since is not None
        if for_payment or before == Status.SUSPENDED:
            billing_services.subscription_mark_dunning_suspended(
                subscription=subscription, suspended=for_payment
            )
    _notify(licensee, before, target, subscription, for_payment)
    return f"{before} -> {target}"


def _notify(
    licensee: Licensee, before: str, target: str, subscription: Subscription, for_payment: bool
) -> None:
    if target == Status.PAST_DUE:
        owing_since = subscription.past_due_since
        assert owing_since is not None  # the target is PAST_DUE only while something is owed
        suspend_after = owing_since + _grace()
        transaction.on_commit(lambda: notices.payment_failed(licensee, suspend_after))
    elif target == Status.SUSPENDED:
        notice = notices.suspended_for_payment if for_payment else notices.subscription_ended
        transaction.on_commit(lambda: notice(licensee))
    elif before == Status.SUSPENDED:
        transaction.on_commit(lambda: notices.reactivated(licensee))


def billing_event_apply(*, event_id: str) -> str:
    """Apply one stored Stripe event — once, whatever order and however often events
    arrive. Raises (and the job retries) while the event's subscription is not known yet."""
    with schema_context("public"), transaction.atomic():
        event = BillingEvent.objects.select_for_update().filter(event_id=event_id).first()
        if event is None:
            return "unknown event"
        if event.processed_at is not None:
            return event.outcome
        try:
            subscription = billing_services.stripe_event_apply(event=event)
        except EventNotApplicable:
            if timezone.now() - event.received_at < UNKNOWN_SUBSCRIPTION_PATIENCE:
                raise
            subscription, outcome = None, "not one of our subscriptions"
        else:
            outcome = "ignored"
        if subscription is not None:
            outcome = _standing_after_event(subscription)
        billing_services.billing_event_finish(event=event, outcome=outcome)
    return outcome


def _standing_after_event(subscription: Subscription) -> str:
    if provisioning_due(subscription):
        licensee = licensee_provision_for(subscription=subscription)
        subscription.refresh_from_db()
        if licensee is not None:
            return f"provisioned {licensee.slug} ({licensee.status})"
    return licensee_standing_apply(subscription=subscription)


def dunning_run(*, now: datetime | None = None) -> dict[str, str]:
    """Daily: bring every provisioned licensee in line with its standing — above all,
    suspend those whose invoice stayed unpaid past the grace period. One failing licensee
    stops no other."""
    now = now or timezone.now()
    changes: dict[str, str] = {}
    with schema_context("public"):
        ids = list(
            Subscription.objects.filter(licensee__isnull=False)
            .exclude(licensee__status=Status.TERMINATED)
            .values_list("pk", flat=True)
        )
    for subscription_id in ids:
        try:
            with schema_context("public"), transaction.atomic():
                subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
                billing_services.subscription_standing_refresh(subscription=subscription)
                outcome = licensee_standing_apply(subscription=subscription, now=now)
        except Exception:
            logger.exception("Dunning failed for subscription %s.", subscription_id)
            continue
        if "->" in outcome:
            changes[subscription.slug] = outcome
    return changes


def billing_events_unprocessed() -> list[str]:
    """Ids of Callrix's own stored Stripe events whose job should have run five minutes ago
    and did not (Redis lost it): the sweeper queues them again."""
    cutoff = timezone.now() - timedelta(minutes=5)
    with schema_context("public"):
        return list(
            BillingEvent.objects.filter(processed_at__isnull=True, received_at__lt=cutoff)
            .order_by("received_at")
            .values_list("event_id", flat=True)[:1000]
        )
