"""A refund due after erasure is paid back through Stripe by the licensee's admin, out of
the closed account's wallet, with the books balanced."""

# ruff: noqa: F811 (the payments fixtures are imported, then requested by name)
from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from compliance.licensee.models import PrivacyRequest
from tenant_apps.payments.models import Refund
from tenant_apps.wallets import selectors as wallet_selectors
from tests.factories import PASSWORD
from tests.tenant_apps.payments.conftest import alpha_stripe, people, tokens  # noqa: F401
from tests.tenant_apps.payments.test_topups import _pay, _topup

pytestmark = pytest.mark.django_db


def test_the_paid_credit_of_an_erased_account_is_refunded_by_the_admin(
    api,
    tokens,
    stripe,
    alpha_stripe,
    people,  # noqa: F811
):
    topup_id = _topup(api, tokens["caller"], amount=2_000).json()["id"]
    _pay(api, stripe, alpha_stripe, topup_id)
    erased = api("alpha").delete("/api/v1/me", {"password": PASSWORD}, token=tokens["caller"])
    assert erased.status_code == 200, erased.content
    assert erased.json()["credit"]["refund_due"] == 2_000
    with schema_context("alpha"):
        note = PrivacyRequest.objects.get(type="erasure").notes
        assert "To refund: €20.00" in note

    refunded = api("alpha").post(
        f"/api/v1/admin/topups/{topup_id}/refund",
        {"reason": "Account erased: credit refunded"},
        token=tokens["admin"],
    )
    assert refunded.status_code == 201, refunded.content
    with schema_context("alpha"):
        caller_id = people["caller"].pk
        assert wallet_selectors.wallet_balance_get(user_id=caller_id).available_minor == 0
        assert Refund.objects.get().amount_minor == 2_000
        assert wallet_selectors.ledger_verify() == []
