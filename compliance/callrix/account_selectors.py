"""Reads of licensee account holders (public schema; Callrix is the controller)."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import schema_context

from shared_apps.accounts.models import AccountHolder
from shared_apps.billing.models import Invoice, StaffNote, Subscription, SupportRequest
from shared_apps.privacy.models import PolicyChangeNotice

CONTROLLER = "KCraft Studio LTD"


def account_holder_for_user(*, user_id: int) -> AccountHolder | None:
    with schema_context("public"):
        return (
            AccountHolder.objects.select_related("user", "licensee").filter(user_id=user_id).first()
        )


def billing_address_of(holder: AccountHolder) -> dict[str, str]:
    return {
        "line1": holder.billing_line1,
        "line2": holder.billing_line2,
        "city": holder.billing_city,
        "postal_code": holder.billing_postal_code,
        "country": holder.billing_country,
    }


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def account_holder_export(*, holder: AccountHolder) -> dict:
    """Everything Callrix holds about one account holder, as structured JSON (GDPR Art. 15
    and 20): their account, their contract, its invoices and their correspondence with us.
    Nothing from the licensee's own schema (its end users are the licensee's, not ours)."""
    with schema_context("public"):
        user = holder.user
        licensee = holder.licensee
        subscriptions = Subscription.objects.filter(account_holder=holder).select_related("plan")
        invoices = Invoice.objects.filter(subscription__account_holder=holder)
        requests = SupportRequest.objects.filter(account_holder=holder)
        notes = StaffNote.objects.filter(
            Q(support_request__account_holder=holder)
            | Q(licensee__isnull=False, licensee_id=holder.licensee_id, support_request=None)
        )
        return {
            "generated_at": timezone.now().isoformat(),
            "controller": CONTROLLER,
            "account": {
                "email": user.email,
                "full_name": holder.full_name,
                "company": holder.company,
                "phone": holder.phone,
                "billing_address": billing_address_of(holder),
                "created_at": _iso(holder.created_at),
                "updated_at": _iso(holder.updated_at),
                "last_login": _iso(user.last_login),
            },
            "licensee": None
            if licensee is None
            else {
                "slug": licensee.slug,
                "name": licensee.display_name,
                "status": licensee.status,
                "created_at": _iso(licensee.created_at),
                "terminated_at": _iso(licensee.terminated_at),
                "data_retained_until": _iso(licensee.data_retained_until),
            },
            "subscriptions": [
                {
                    "plan": s.plan.name,
                    "company": s.company,
                    "slug": s.slug,
                    "status": s.status,
                    "created_at": _iso(s.created_at),
                    "current_period_end": _iso(s.current_period_end),
                    "canceled_at": _iso(s.canceled_at),
                }
                for s in subscriptions.order_by("id")
            ],
            "invoices": [
                {
                    "number": i.number,
                    "status": i.status,
                    "currency": i.currency,
                    "subtotal": i.subtotal_minor,
                    "tax": i.tax_minor,
                    "total": i.total_minor,
                    "amount_paid": i.amount_paid_minor,
                    "customer_name": i.customer_name,
                    "customer_address": i.customer_address,
                    "period_start": _iso(i.period_start),
                    "period_end": _iso(i.period_end),
                    "issued_at": _iso(i.issued_at),
                    "paid_at": _iso(i.paid_at),
                    "retained_until": _iso(i.retain_until),
                }
                for i in invoices.order_by("issued_at", "id")
            ],
            "support_requests": [
                {
                    "subject": r.subject,
                    "body": r.body,
                    "contact_email": r.contact_email,
                    "channel": r.channel,
                    "status": r.status,
                    "created_at": _iso(r.created_at),
                    "last_interaction_at": _iso(r.last_interaction_at),
                }
                for r in requests.order_by("created_at", "id")
            ],
            "notes": [
                {"kind": n.kind, "body": n.body, "created_at": _iso(n.created_at)}
                for n in notes.order_by("created_at", "id")
            ],
            "policy_notices": [
                {"version": n.version.version, "email": n.email, "sent_at": _iso(n.sent_at)}
                for n in PolicyChangeNotice.objects.filter(account_holder=holder)
                .select_related("version")
                .order_by("sent_at", "id")
            ],
        }
