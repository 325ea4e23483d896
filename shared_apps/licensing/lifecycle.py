"""Bridge: what Callrix staff do to a licensee — suspend, reactivate, terminate — with what
must go with it on the billing side (the Stripe subscription, the dunning flag, the e-mails)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django_tenants.utils import schema_context

from kernel.job_outbox.services import job_send_on_commit
from shared_apps.accounts.errors import AccountNotFound
from shared_apps.accounts.models import AccountHolder
from shared_apps.billing import overage, stripe_gateway
from shared_apps.billing import selectors as billing_selectors
from shared_apps.billing import services as billing_services
from shared_apps.billing.errors import BillingUnavailable, PlanUnavailable
from shared_apps.billing.models import LicenseeTerms, Plan
from shared_apps.billing.tasks import subscription_cancel
from shared_apps.licensing import notices
from tenants import hooks, selectors, services
from tenants.errors import LicenseeNotFound
from tenants.models import Licensee


def _forget_dunning(licensee: Licensee) -> None:
    # A staff decision replaces a suspension for non-payment: a later payment must not undo it.
    subscription = billing_selectors.subscription_for_licensee(licensee_id=licensee.pk)
    if subscription is not None and subscription.dunning_suspended_at is not None:
        billing_services.subscription_mark_dunning_suspended(
            subscription=subscription, suspended=False
        )


def licensee_suspend_by_staff(*, slug: str) -> Licensee:
    """Stop serving the licensee's hosts (403); its data stays untouched."""
    with schema_context("public"), transaction.atomic():
        licensee = services.licensee_suspend(slug=slug)
        _forget_dunning(licensee)
    return licensee


def licensee_reactivate_by_staff(*, slug: str) -> Licensee:
    with schema_context("public"), transaction.atomic():
        licensee = services.licensee_reactivate(slug=slug)
        _forget_dunning(licensee)
    return licensee


def licensee_terminate(*, slug: str) -> Licensee:
    """End a licensee's contract. Its hosts answer 410 at once; its owner is offered a final
    export of the data (a job writes it and e-mails them the link,
    `compliance.callrix.final_export`); its Stripe subscription is cancelled. Its schema stays
    for 30 days for that export — the compliance retention job drops it after
    `data_retained_until` — and its invoices stay 7 years (privacy policy §7)."""
    with schema_context("public"):
        current = selectors.licensee_get_by_slug(slug=slug)
        if current is None:
            raise LicenseeNotFound(f"No licensee with the slug '{slug}'.", field="slug")
        if current.status == Licensee.Status.TERMINATED:
            return current
        recipients = notices.owner_emails(current)
        with transaction.atomic():
            licensee = services.licensee_set_status(slug=slug, status=Licensee.Status.TERMINATED)
            subscription = billing_selectors.subscription_for_licensee(licensee_id=licensee.pk)
            if subscription is not None and not subscription.has_ended:
                job_send_on_commit(subscription_cancel, subscription.pk)
            transaction.on_commit(lambda: notices.terminated(licensee, recipients))
            # The final export (compliance) is queued on commit by its receiver.
            hooks.licensee_terminated.send(sender=Licensee, licensee=licensee)
    return licensee


def licensee_plan_change(
    *,
    slug: str,
    plan_code: str,
    changed_by_id: int | None = None,
    effective_from: datetime | None = None,
) -> LicenseeTerms:
    """Move a licensee to another plan: its subscription names the new plan, and the plan's
    terms (Callrix's fee, included advisors and minutes) apply from `effective_from` (now by
    default) in the licensee's effective-dated history. Calls started before keep the fee they
    started under; settled calls are never rewritten."""
    with schema_context("public"):
        licensee = selectors.licensee_get_by_slug(slug=slug)
        if licensee is None:
            raise LicenseeNotFound(f"No licensee with the slug '{slug}'.", field="slug")
        plan = Plan.objects.filter(code=plan_code, active=True).first()
        if plan is None:
            raise PlanUnavailable(f"There is no active plan '{plan_code}'.", field="plan")
        if plan.currency != licensee.currency:
            raise PlanUnavailable(
                f"The plan is billed in {plan.currency}; the licensee's books are in "
                f"{licensee.currency}.",
                field="plan",
            )
        subscription = billing_selectors.subscription_for_licensee(licensee_id=licensee.pk)
        if (
            subscription is not None
            and subscription.stripe_subscription_id
            and not subscription.has_ended
            and subscription.plan_id != plan.pk
        ):
            # Outside the transaction: Stripe prorates the rest of the period onto the next
            # invoice (the key makes a retry of this change one change).
            price_id = stripe_gateway.plan_price_id(
                plan_code=plan.code,
                plan_name=plan.name,
                monthly_fee_minor=plan.monthly_fee_minor,
                currency=plan.currency,
            )
            stripe_gateway.subscription_price_change(
                subscription_id=subscription.stripe_subscription_id,
                price_id=price_id,
                idempotency_key=(
                    f"plan-change-{subscription.pk}-"
                    f"{LicenseeTerms.objects.filter(licensee_id=licensee.pk).count()}"
                ),
            )
        with transaction.atomic():
            if subscription is not None:
                subscription.plan = plan
                subscription.save(update_fields=["plan"])
            terms = billing_services.terms_record(
                licensee_id=licensee.pk,
                plan=plan,
                reason=LicenseeTerms.Reason.PLAN_CHANGE,
                effective_from=effective_from,
                changed_by_id=changed_by_id,
            )
            if effective_from is None:
                # The licensee's pricing policy shows the fee now in force.
                hooks.licensee_terms_set.send(
                    sender=Licensee, licensee=licensee, revenue_share_bps=plan.revenue_share_bps
                )
        if (
            subscription is not None
            and plan.overage_minor_per_minute
            and overage.overage_item_stale(subscription)
        ):
            # After the commit, outside it: the metered item moves to the new plan's overage
            # rate; if Stripe is down now, the daily overage job moves it.
            try:
                overage.overage_item_ensure(subscription)
            except BillingUnavailable:
                pass
    return terms


def account_plan_change(*, user_id: int, plan_code: str) -> LicenseeTerms:
    """The account holder moves their own licensee to another plan (prorated by Stripe;
    Callrix's fee and the plan's inclusions apply from now)."""
    with schema_context("public"):
        holder = AccountHolder.objects.select_related("licensee").filter(user_id=user_id).first()
    if holder is None or holder.licensee is None:
        raise AccountNotFound("This sign-in has no licensee account.")
    return licensee_plan_change(slug=holder.licensee.slug, plan_code=plan_code, changed_by_id=None)
