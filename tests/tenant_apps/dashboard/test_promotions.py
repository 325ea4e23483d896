"""The dashboard's promotion codes: created through the promotions app's rules, listed with
what each has given, and only the licensee's own."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tenant_apps.promotions.models import Promotion
from tenant_apps.promotions.services import promotion_create

pytestmark = pytest.mark.django_db


def test_an_admin_creates_a_code_and_sees_it_listed(alpha, signed_in):
    admin = signed_in("alpha", "admin")
    created = admin.post(
        "/dashboard/promotions/new",
        {"code": "welcome10", "kind": "topup_percent", "percent": "10", "max_uses_per_user": "1"},
    )
    assert created.status_code == 302, created.content
    with schema_context("alpha"):
        promotion = Promotion.objects.get()
        assert (promotion.code, promotion.kind, promotion.percent) == (
            "WELCOME10",
            "topup_percent",
            10,
        )
    page = admin.get("/dashboard/promotions/").content.decode()
    assert 'data-code="WELCOME10"' in page and "10 % on a top-up" in page

    free = admin.post(
        "/dashboard/promotions/new",
        {
            "code": "FIRSTMIN",
            "kind": "first_session_seconds",
            "free_seconds": "60",
            "max_uses_per_user": "1",
            "max_uses_total": "100",
        },
    )
    assert free.status_code == 302
    assert "60 s free on a first session" in admin.get("/dashboard/promotions/").content.decode()


def test_a_refused_code_is_shown_at_its_field(alpha, signed_in):
    admin = signed_in("alpha", "admin")
    with schema_context("alpha"):
        promotion_create(code="TAKEN", kind="topup_fixed", amount_minor=500)
    taken = admin.post(
        "/dashboard/promotions/new",
        {"code": "taken", "kind": "topup_fixed", "amount": "5", "max_uses_per_user": "1"},
    )
    assert taken.status_code == 400 and "This code exists already." in taken.content.decode()
    nothing = admin.post(
        "/dashboard/promotions/new",
        {"code": "EMPTY", "kind": "topup_percent", "max_uses_per_user": "1"},
    )
    assert nothing.status_code == 400
    assert "Say how much this promotion gives." in nothing.content.decode()
    with schema_context("alpha"):
        assert Promotion.objects.count() == 1


def test_another_licensees_codes_are_not_shown(alpha, beta, signed_in):
    with schema_context("alpha"):
        promotion_create(code="ALPHAONLY", kind="topup_fixed", amount_minor=500)
    page = signed_in("beta", "admin").get("/dashboard/promotions/").content.decode()
    assert "ALPHAONLY" not in page and "No promotion codes yet." in page
