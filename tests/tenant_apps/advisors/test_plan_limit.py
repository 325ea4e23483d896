"""Plans as contracts: inviting one advisor more than the plan includes answers 409
`plan_limit`, naming the plan, its limit and the next plan up."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from shared_apps.billing import services as billing_services
from shared_apps.billing.models import Plan
from tenant_apps.advisors.models import Advisor
from tests.factories import PASSWORD
from tests.tenant_apps.calls.conftest import make_advisor
from tests.tenant_apps.dashboard.conftest import signed_in  # noqa: F401  (shared fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plans():
    starter = Plan.objects.create(
        code="t-starter", name="Starter", monthly_fee_minor=4_900, included_advisors=2
    )
    growth = Plan.objects.create(
        code="t-growth", name="Growth", monthly_fee_minor=9_900, included_advisors=15
    )
    return starter, growth


def _admin_token(api, make_user, slug: str) -> str:
    make_user(slug, f"admin@{slug}.test", role="admin")
    return (
        api(slug)
        .post("/api/v1/auth/token", {"email": f"admin@{slug}.test", "password": PASSWORD})
        .json()["access"]
    )


def _invite(api, token, slug, n):
    return api(slug).post(
        "/api/v1/admin/advisors",
        {"email": f"seer{n}@{slug}.test", "display_name": f"Seer {n}", "rate": 200},
        token=token,
    )


def test_the_advisor_one_past_the_plan_is_refused_naming_plan_limit_and_upgrade(
    alpha, beta, api, make_user, plans
):
    starter, growth = plans
    billing_services.terms_record(licensee_id=alpha.pk, plan=starter, reason="signup")
    token = _admin_token(api, make_user, "alpha")
    assert _invite(api, token, "alpha", 1).status_code == 201
    assert _invite(api, token, "alpha", 2).status_code == 201
    refused = _invite(api, token, "alpha", 3)
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "plan_limit" and body["field"] == "email"
    assert "Starter" in body["detail"] and "2 advisors" in body["detail"]
    assert "Growth (15 advisors)" in body["detail"]
    assert "Callrix" not in body["detail"]
    with schema_context("alpha"):
        assert not Advisor.objects.filter(user__email="seer3@alpha.test").exists()
    # Beta's contract is its own: alpha's plan limits nothing there.
    beta_token = _admin_token(api, make_user, "beta")
    with schema_context("beta"):
        connection.tenant = beta
        make_advisor("one@beta.test")
        make_advisor("two@beta.test")
    assert _invite(api, beta_token, "beta", 3).status_code == 201


def test_after_the_upgrade_the_next_invitation_goes_through(alpha, api, make_user, plans):
    starter, growth = plans
    billing_services.terms_record(licensee_id=alpha.pk, plan=starter, reason="signup")
    token = _admin_token(api, make_user, "alpha")
    with schema_context("alpha"):
        connection.tenant = alpha
        make_advisor("a@alpha.test")
        make_advisor("b@alpha.test")
    assert _invite(api, token, "alpha", 3).status_code == 409
    billing_services.terms_record(licensee_id=alpha.pk, plan=growth, reason="plan_change")
    assert _invite(api, token, "alpha", 3).status_code == 201


def test_the_dashboard_shows_the_limit_at_the_invitation_form(alpha, signed_in, plans):  # noqa: F811
    starter, _ = plans
    billing_services.terms_record(licensee_id=alpha.pk, plan=starter, reason="signup")
    with schema_context("alpha"):
        connection.tenant = alpha
        make_advisor("a@alpha.test")
        make_advisor("b@alpha.test")
    admin = signed_in("alpha", "admin")
    response = admin.post(
        "/dashboard/advisors/invite",
        {"email": "c@alpha.test", "display_name": "C", "rate": "2.00"},
    )
    assert response.status_code == 400
    assert "includes 2 advisors" in response.content.decode()
