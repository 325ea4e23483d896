"""The revenue share: the Callrix fee each licensee's ledger collected in a month, reported
to Stripe once as an invoice item on the licensee's next invoice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import stripe
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.billing.models import Invoice, RevenueShareReport
from shared_apps.usage import metering
from tenant_apps.wallets import selectors as wallet_selectors
from tenant_apps.wallets.models import AccountKind
from tenant_apps.wallets.services import Leg, account_for, ledger_post
from tenants.models import Licensee

pytestmark = pytest.mark.django_db


def _fee(licensee: Licensee, amount: int, at: datetime, key: str) -> None:
    """A settled call's Callrix fee, booked at `at` (the rest of the call does not matter)."""
    with time_machine.travel(at, tick=False), tenant_context(licensee):
        connection.tenant = licensee
        ledger_post(
            idempotency_key=key,
            kind="call_settlement",
            description="test fee",
            legs=[
                Leg(account_for(kind=AccountKind.STRIPE_CLEARING), -amount),
                Leg(account_for(kind=AccountKind.CALLRIX_FEE), amount),
            ],
        )


@pytest.fixture
def trial_co(signup, callrix_stripe) -> Licensee:
    body = signup(plan="starter", slug="trial-co").json()
    callrix_stripe.deliver_new()
    licensee = Licensee.objects.get(slug="trial-co")
    licensee.stripe_subscription_id = body["subscription"]["id"]
    return licensee


def _month_starts() -> tuple[datetime, datetime]:
    this_month = timezone.now().date().replace(day=1)
    last_month = metering.previous_month(timezone.now().date())
    as_moment = lambda day: datetime.combine(day, datetime.min.time(), tzinfo=UTC)  # noqa: E731
    return as_moment(last_month), as_moment(this_month)


def _stripe_items(callrix_stripe, settings) -> list:
    client = stripe.StripeClient(
        callrix_stripe.secret_key, base_addresses={"api": settings.STRIPE_API_BASE}
    )
    return client.v1.invoice_items.list().data


def test_a_month_of_fees_is_reported_once_and_lands_on_the_next_invoice(
    trial_co, alpha, callrix_stripe, settings
):
    last_month, this_month = _month_starts()
    _fee(trial_co, 300, last_month + timedelta(hours=1), "fee:1")
    _fee(trial_co, 450, this_month - timedelta(seconds=1), "fee:2")
    _fee(trial_co, 999, this_month + timedelta(seconds=1), "fee:next-month")
    _fee(trial_co, 111, last_month - timedelta(seconds=1), "fee:month-before")
    _fee(alpha, 5_000, last_month + timedelta(days=2), "fee:alpha")  # another licensee

    first = metering.revenue_share_report_all(month_start=last_month.date())
    second = metering.revenue_share_report_all(month_start=last_month.date())

    assert first.failed == {} and second.failed == {}
    [report] = first.done
    assert report.amount_minor == 750 and report.currency == "EUR"
    assert report.stripe_invoice_item_id.startswith("ii_")
    assert [r.pk for r in second.done] == [report.pk]
    assert RevenueShareReport.objects.count() == 1
    [item] = _stripe_items(callrix_stripe, settings)
    assert item.amount == 750 and item.invoice is None
    assert item.description.startswith("Revenue share on calls")

    renewal = callrix_stripe.sandbox.advance_subscription(
        trial_co.stripe_subscription_id, outcome="pay"
    )
    callrix_stripe.deliver_new()

    assert [line["amount"] for line in renewal["lines"]["data"]] == [9_900, 750]
    stored = Invoice.objects.get(stripe_invoice_id=renewal["id"])
    assert stored.subtotal_minor == 10_650 and stored.status == "paid"
    for licensee in (trial_co, alpha):
        with tenant_context(licensee):
            assert wallet_selectors.ledger_verify() == []


def test_a_month_without_fees_is_recorded_but_not_billed(trial_co, callrix_stripe, settings):
    last_month, _ = _month_starts()

    [report] = metering.revenue_share_report_all(month_start=last_month.date()).done

    assert report.amount_minor == 0 and report.stripe_invoice_item_id == ""
    assert report.reported_at is not None
    assert _stripe_items(callrix_stripe, settings) == []


def test_the_command_reports_a_finished_month_only(trial_co, callrix_stripe):
    last_month, this_month = _month_starts()
    _fee(trial_co, 250, last_month + timedelta(days=1), "fee:cmd")
    out = StringIO()

    call_command("billing", "report-usage", "--month", f"{last_month:%Y-%m}", stdout=out)

    assert "trial-co" in out.getvalue() and "250 EUR" in out.getvalue()
    with pytest.raises(CommandError, match="ended"):
        call_command("billing", "report-usage", "--month", f"{this_month:%Y-%m}")
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("billing", "report-usage", "--month", "last")


def test_stripe_down_leaves_the_month_to_report_again(trial_co, callrix_stripe, settings):
    last_month, _ = _month_starts()
    _fee(trial_co, 400, last_month + timedelta(days=1), "fee:retry")
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"

    down = metering.revenue_share_report_all(month_start=last_month.date())
    assert down.failed.keys() == {"trial-co"}
    assert not RevenueShareReport.objects.filter(reported_at__isnull=False).exists()

    settings.STRIPE_API_BASE = callrix_stripe.sandbox_url
    again = metering.revenue_share_report_all(month_start=last_month.date())
    assert again.failed == {} and again.done[0].amount_minor == 400
