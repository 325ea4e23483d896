"""Bridge: a licensee's sign-up (public schema, Callrix's billing) and the provisioning of its
platform (a tenant schema) once the subscription is paid for — or at once on a trial."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django_tenants.utils import schema_context

from shared_apps.billing import selectors as billing_selectors
from shared_apps.billing import services as billing_services
from shared_apps.billing.models import Invoice, LicenseeTerms, Subscription
from shared_apps.billing.stripe_gateway import StripeInvoice
from shared_apps.licensing import notices
from tenants import hooks, services
from tenants.errors import SlugTaken
from tenants.models import Licensee


@dataclass(frozen=True)
class SignupResult:
    subscription: Subscription
    licensee: Licensee | None  # None until the first payment arrives
    invoice: StripeInvoice | None

    @property
    def awaiting_payment(self) -> bool:
        invoice = self.invoice
        return (
            self.licensee is None
            and invoice is not None
            and invoice.status == "open"
            and invoice.amount_due_minor > 0
        )


def licensee_signup(
    *,
    slug: str,
    company: str,
    full_name: str,
    email: str,
    phone: str,
    password: str,
    billing_address: dict[str, str],
    plan: str,
) -> SignupResult:
    """Validate everything, then in one transaction open the account holder, start the
    Stripe subscription and, on a trial, provision the platform. Any failure rolls it all back
    and cancels a Stripe subscription already started: no half licensee is left."""
    slug = services.slug_validate((slug or "").strip().lower())
    if services.slug_in_use(slug) or billing_selectors.slug_reserved(slug=slug):
        raise SlugTaken(f"The slug '{slug}' is already taken.", field="slug")
    form = billing_services.signup_validate(
        slug=slug,
        company=company,
        full_name=full_name,
        email=email,
        phone=phone,
        password=password,
        billing_address=billing_address,
        plan=plan,
    )
    with schema_context("public"), transaction.atomic():
        started = billing_services.signup_start(form=form)
        licensee = None
        if provisioning_due(started.subscription):
            try:
                licensee = licensee_provision_for(subscription=started.subscription)
            except Exception:
                billing_services.stripe_subscription_cancel_quietly(started.stripe_subscription.id)
                raise
    return SignupResult(
        subscription=started.subscription,
        licensee=licensee,
        invoice=started.stripe_subscription.latest_invoice,
    )


def provisioning_due(subscription: Subscription) -> bool:
    """Not provisioned yet, and on a trial or paid for."""
    if subscription.licensee_id is not None or subscription.has_ended:
        return False
    if subscription.status in (Subscription.Status.TRIALING, Subscription.Status.ACTIVE):
        return True
    return subscription.invoices.filter(status=Invoice.Status.PAID).exists()


def licensee_provision_for(*, subscription: Subscription) -> Licensee | None:
    """Provision the subscription's platform (once; a replayed payment finds it done).

    The owner account lives in the tenant schema, apart from the account holder's public one.
    It gets the account holder's password hash (bcrypt, cost 12), so the person who signed up
    signs in to their platform with the password they chose, which no one has to send or
    store in clear; from then on the two passwords are separate."""
    with schema_context("public"), transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("plan", "account_holder__user", "licensee")
            .get(pk=subscription.pk)
        )
        if subscription.licensee is not None:
            return subscription.licensee
        holder = subscription.account_holder
        if holder is None:  # the account holder was erased before paying
            return None
        plan = subscription.plan
        trial = subscription.status == Subscription.Status.TRIALING
        provisioned = services.licensee_provision(
            slug=subscription.slug,
            display_name=subscription.company,
            owner_email=holder.user.email,
            owner_password_hash=holder.user.password,
            # One currency for the licensee's books and its Callrix invoices, so the revenue
            # share can be billed as it was collected.
            currency=plan.currency,
            status=Licensee.Status.TRIAL if trial else Licensee.Status.ACTIVE,
        )
        licensee = provisioned.licensee
        billing_services.subscription_link_licensee(
            subscription=subscription, licensee_id=licensee.pk
        )
        # The plan's terms start the licensee's effective-dated history (the fee each call
        # pays is read from it), and its pricing (its own schema) shows Callrix's fee.
        billing_services.terms_record(
            licensee_id=licensee.pk, plan=plan, reason=LicenseeTerms.Reason.SIGNUP
        )
        hooks.licensee_terms_set.send(
            sender=Licensee, licensee=licensee, revenue_share_bps=plan.revenue_share_bps
        )
        transaction.on_commit(lambda: notices.platform_ready(licensee))
    return licensee
