"""The demo's data and the `callrix sandbox` command that plays a card payment."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, tenant_context

from callrix.demo import (
    DEMO_ADVISORS,
    DEMO_PEOPLE,
    demo_ensure,
    demo_stripe_connect,
    demo_uses_stripe_sandbox,
)
from identity.models import User
from tenant_apps.advisors.models import Advisor
from tenant_apps.payments import services as payment_services
from tenant_apps.payments.models import TopUp, TopUpPackage
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
