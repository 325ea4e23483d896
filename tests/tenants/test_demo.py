"""The demo's data and the `callrix sandbox` command that plays a card payment."""

from __future__ import annotations

import os
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from demo.aurora import (
    DEMO_ADVISORS,
    DEMO_PEOPLE,
    demo_callrix_billing,
    demo_ensure,
    demo_plans_ensure,
    demo_stripe_connect,
    demo_uses_stripe_sandbox,
)
from demo.history import HISTORY_CALLERS, PAID_ADVISOR, demo_history_ensure
from identity.models import User
from shared_apps.billing.models import LicenseeTerms, Plan
from tenant_apps.advisors.models import Advisor
from tenant_apps.calls.models import Call
from tenant_apps.payments import services as payment_services
from tenant_apps.payments.models import TopUp, TopUpPackage
from tenant_apps.payouts import selectors as payout_selectors
from tenant_apps.payouts.models import Payout
from tenant_apps.wallets.selectors import ledger_verify, wallet_balance_get
from tenants import selectors
from tests.tenant_apps.payments.conftest import connect_to_sandbox

pytestmark = pytest.mark.django_db


def test_demo_data_is_created_once_with_credit_for_the_callers(stripe):
    demo_ensure()
    demo_ensure()  # idempotent on re-runs
    aurora = selectors.licensee_get_by_slug(slug="aurora")
    with tenant_context(aurora):
        assert set(User.objects.values_list("email", flat=True)) == {
            email for _, email, _ in DEMO_PEOPLE
        } | {advisor[0] for advisor in DEMO_ADVISORS}
        assert Advisor.objects.filter(status="online").count() == 2
        caller = User.objects.get(email="caller@aurora.test")
        assert wallet_balance_get(user_id=caller.pk).available_minor == 2_500
        assert TopUpPackage.objects.filter(code="starter", bonus_minor=200).exists()
        assert ledger_verify() == []
    with schema_context("public"):
        assert User.objects.filter(email="staff@callrix.test", is_staff=True).exists()
        # Aurora is on Starter: its 5 included advisors are the contract.
        terms = LicenseeTerms.objects.get(licensee=aurora)
        assert (terms.plan.code, terms.included_advisors) == ("starter", 5)


def test_demo_connects_to_the_sandbox_only_without_real_keys(stripe, settings):
    demo_ensure()
    aurora = selectors.licensee_get_by_slug(slug="aurora")
    assert demo_uses_stripe_sandbox(licensee=aurora)
    demo_stripe_connect(
        licensee=aurora, sandbox_url=settings.STRIPE_API_BASE, web_origin="http://127.0.0.1:8000"
    )
    assert demo_uses_stripe_sandbox(licensee=aurora)  # sandbox keys: still sandbox mode


def test_sandbox_pay_completes_the_card_payment_of_a_topup(stripe, alpha, make_user):
    creds = connect_to_sandbox(stripe, alpha)
    caller = make_user("alpha", "payer@example.test")
    with schema_context("alpha"):
        connection.tenant = alpha
        topup = payment_services.topup_create(user=caller, amount_minor=1_500)
    out = StringIO()
    call_command("sandbox", "pay", str(topup.pk), "--licensee", "alpha", stdout=out)
    assert "payment succeeded" in out.getvalue()
    succeeded = stripe.events(creds["account_id"], "payment_intent.succeeded")
    assert succeeded[0]["data"]["object"]["id"] == topup.payment_intent_id
    with pytest.raises(CommandError, match="no top-up 999"):
        call_command("sandbox", "pay", "999", "--licensee", "alpha")
    with schema_context("alpha"):
        assert TopUp.objects.get(pk=topup.pk).status == "pending"  # until the webhook lands


def test_demo_history_pays_an_onboarded_advisor_once_for_cleared_earnings(stripe, settings):
    """The issue's walk-through: three weeks of calls written through the real services, an
    advisor onboarded at the sandbox, and the payout job paying that advisor exactly once."""
    demo_ensure()
    aurora = selectors.licensee_get_by_slug(slug="aurora")
    demo_stripe_connect(
        licensee=aurora, sandbox_url=settings.STRIPE_API_BASE, web_origin="http://127.0.0.1:8000"
    )

    assert demo_history_ensure(
        licensee=aurora, stripe_base=settings.STRIPE_API_BASE, origin="http://aurora.localhost"
    )
    assert not demo_history_ensure(
        licensee=aurora, stripe_base=settings.STRIPE_API_BASE, origin="http://aurora.localhost"
    )

    with tenant_context(aurora):
        calls = Call.objects.filter(status="completed", end_reason="history")
        assert calls.count() >= 20
        oldest = calls.order_by("ended_at").first().ended_at
        assert timezone.now() - oldest > timedelta(days=14)
        assert TopUp.objects.filter(status="succeeded").count() >= len(HISTORY_CALLERS)
        luna = Advisor.objects.get(user__email=PAID_ADVISOR)
        earned = payout_selectors.earnings_get(advisor=luna, clearing_days=7)
        assert earned.available_minor >= 1_000
        assert ledger_verify() == []

    out = StringIO()
    call_command("payouts", "run", "--licensee", "aurora", stdout=out)
    call_command("payouts", "run", "--licensee", "aurora", stdout=out)

    with tenant_context(aurora):
        paid = Payout.objects.filter(advisor=luna, status="paid")
        assert paid.count() == 1
        assert paid.get().amount_minor == earned.available_minor
        # Advisors who never onboarded keep their earnings, with the reason on record.
        assert not Payout.objects.exclude(advisor=luna).filter(status="paid").exists()
        assert set(Payout.objects.exclude(advisor=luna).values_list("failure_code", flat=True)) == {
            "not_onboarded"
        }
        assert ledger_verify() == []
    assert "1 paid" in out.getvalue().splitlines()[0]


def test_demo_billing_account_is_made_once_and_reused(stripe, settings, tmp_path, monkeypatch):
    monkeypatch.setenv("CALLRIX_HOME", str(tmp_path))
    first = demo_callrix_billing(sandbox_url=settings.STRIPE_API_BASE, web_origin="http://x")
    again = demo_callrix_billing(sandbox_url=settings.STRIPE_API_BASE, web_origin="http://x")

    assert first == again and first["secret_key"].startswith("sk_test_")
    (tmp_path / "callrix-stripe.json").write_text('{"secret_key": "sk_test_gone"}')
    fresh = demo_callrix_billing(sandbox_url=settings.STRIPE_API_BASE, web_origin="http://x")
    assert fresh["secret_key"] != first["secret_key"]


def test_demo_offers_the_plans_for_signup():
    demo_plans_ensure()
    demo_plans_ensure()  # once, whatever the restarts
    with schema_context("public"):
        assert Plan.objects.filter(code="starter", trial_days=14).count() == 1
        assert set(Plan.objects.filter(active=True).values_list("code", flat=True)) >= {
            "starter",
            "growth",
        }


def test_sandbox_call_on_a_finished_call_says_it_is_over(alpha, livekit, monkeypatch, tmp_path):
    from demo import offline
    from tenant_apps.calls import services as call_services
    from tests.tenant_apps.calls.conftest import make_advisor, make_caller

    monkeypatch.setenv("CALLRIX_HOME", str(tmp_path))
    offline._record({"livekit": "http://127.0.0.1:7880"})
    with schema_context("alpha"):
        connection.tenant = alpha
        advisor = make_advisor("played@example.test")
        caller = make_caller("player@example.test")
        ringing = call_services.call_request(caller=caller, advisor_id=advisor.pk)
    with pytest.raises(CommandError, match="is ringing; the advisor must accept it first"):
        call_command("sandbox", "call", str(ringing.pk), "--licensee", "alpha")
    with schema_context("alpha"):
        connection.tenant = alpha
        call_services.call_decline(user=advisor.user, call_id=ringing.pk)
    with pytest.raises(CommandError, match="cannot be played any more") as over:
        call_command("sandbox", "call", str(ringing.pk), "--licensee", "alpha")
    assert "accept" not in str(over.value)


def test_the_demos_mail_goes_to_eml_files_that_a_command_lists(
    alpha, monkeypatch, tmp_path, settings
):
    from email import message_from_bytes

    from branding.mail import branded_email_send
    from branding.selectors import brand_for_licensee
    from demo import mailbox

    monkeypatch.setenv("CALLRIX_HOME", str(tmp_path))
    # Recorded, so both come back after the test (use_mail_folder sets them for the demo).
    monkeypatch.setenv("EMAIL_BACKEND", "")
    monkeypatch.setattr(django_settings, "MAIL_TRANSPORT_BACKEND", settings.MAIL_TRANSPORT_BACKEND)
    mailbox.use_mail_folder()
    assert django_settings.MAIL_TRANSPORT_BACKEND == "demo.mailbox.MailFolderBackend"
    assert os.environ["EMAIL_BACKEND"] == "demo.mailbox.MailFolderBackend"
    # The mail job sends through that transport.
    settings.EMAIL_BACKEND = django_settings.MAIL_TRANSPORT_BACKEND
    branded_email_send(
        to=["casey@example.test"],
        subject="Your receipt from Alpha",
        paragraphs=["Thank you."],
        brand=brand_for_licensee(alpha),
    )
    [stored] = list((tmp_path / "mail").glob("*.eml"))
    assert message_from_bytes(stored.read_bytes())["To"] == "casey@example.test"
    out = StringIO()
    call_command("sandbox", "mail", stdout=out)
    assert stored.name in out.getvalue()
    assert "Subject: Your receipt from Alpha" in out.getvalue()
    assert "To: casey@example.test" in out.getvalue()
