"""The issue's done-means on the demo: an end user downloads their data, then erases their
account, and `callrix ledger verify` is still clean."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from compliance.licensee.models import PrivacyRequest
from demo.aurora import DEMO_PASSWORD, demo_ensure
from identity.models import User
from tenants import selectors

pytestmark = pytest.mark.django_db


def test_a_demo_caller_downloads_their_data_then_erases_the_account(api, stripe):
    demo_ensure()
    aurora_api = api("aurora")
    login = {"email": "caller@aurora.test", "password": DEMO_PASSWORD}
    token = aurora_api.post("/api/v1/auth/token", login).json()["access"]

    data = aurora_api.get("/api/v1/me/export", token=token)
    assert data.status_code == 200
    assert data.json()["profile"]["email"] == "caller@aurora.test"
    assert data.json()["wallet"]["available"] == 2_500

    erased = aurora_api.delete("/api/v1/me", {"password": DEMO_PASSWORD}, token=token)
    assert erased.status_code == 200, erased.content
    credit = erased.json()["credit"]
    # the demo's welcome credit was a gift: it goes back to promotions, nothing to refund
    assert (credit["total"], credit["refund_due"], credit["promotional_returned"]) == (
        2_500,
        0,
        2_500,
    )

    out = io.StringIO()
    call_command("ledger", "verify", "--licensee", "aurora", stdout=out)
    assert "aurora: ledger clean" in out.getvalue()
    assert aurora_api.post("/api/v1/auth/token", login).status_code == 401
    aurora = selectors.licensee_get_by_slug(slug="aurora")
    with tenant_context(aurora):
        assert list(
            PrivacyRequest.objects.order_by("id").values_list("type", "channel", "outcome")
        ) == [("access", "self_service", "fulfilled"), ("erasure", "self_service", "fulfilled")]
    # the next demo start gives the demo a fresh caller@aurora.test, books still clean
    demo_ensure()
    with tenant_context(aurora):
        assert User.objects.get(email="caller@aurora.test").erased_at is None
    call_command("ledger", "verify", "--licensee", "aurora", stdout=io.StringIO())
