"""The wallet page's top-up packages say each figure once: "Starter — €20.00 + €2.00 bonus"."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tenant_apps.payments import services as payment_services
from tenant_apps.payments.models import StripeConnection
from tests.tenant_apps.calls.conftest import make_caller

pytestmark = pytest.mark.django_db


def test_a_package_reads_name_amount_and_bonus_once(alpha, signed_in):
    with schema_context("alpha"):
        connection.tenant = alpha
        payment_services.topup_package_create(
            code="starter", name="Starter", amount_minor=2_000, bonus_minor=200
        )
        StripeConnection.objects.create(
            publishable_key="pk_test_sandbox",
            secret_key_encrypted="x",
            webhook_secret_encrypted="x",
            account_id="acct_packages",
        )
        caller = make_caller("packages@example.test", credit_minor=0)
    connection.set_schema_to_public()
    page = signed_in("alpha", caller).get("/wallet/").content.decode()
    assert "Starter — €20.00 + €2.00 bonus" in page
    assert "(+" not in page
