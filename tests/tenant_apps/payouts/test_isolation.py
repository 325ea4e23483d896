"""Only the advisor sees their own payouts and earnings; only a licensee's own admins see and
hold its advisors' payouts."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tenant_apps.payouts.models import Payout, PayoutAccount
from tenant_apps.payouts.services import payouts_run
from tests.factories import PASSWORD
from tests.tenant_apps.payouts.conftest import make_advisor, settle_call

pytestmark = pytest.mark.django_db


def _token(api, slug, email):
    response = api(slug).post("/api/v1/auth/token", {"email": email, "password": PASSWORD})
    return response.json()["access"]


@pytest.fixture
def alpha_paid(payouts, luna):
    """Luna at alpha, paid once."""
    advisor, token = luna
    settle_call(advisor, talk_seconds=600)
    payouts.onboard(advisor, token)
    payouts.fund(5_000)
    assert payouts_run().paid == 1
    return advisor, token


def test_an_advisor_sees_only_their_own_payouts_and_earnings(payouts, alpha_paid):
    make_advisor("sol@example.test", display_name="Sol")
    token = payouts.token("sol@example.test")
    state = payouts.get("/api/v1/advisor/payouts", token).json()
    assert state["payouts"] == [] and state["onboarding_status"] == "not_started"
    earnings = payouts.get("/api/v1/advisor/earnings", token).json()
    assert (earnings["paid"], earnings["count"]) == (0, 0)


def test_alphas_advisor_sees_nothing_of_alpha_on_beta(api, payouts, alpha_paid, beta):
    _, alpha_token = alpha_paid
    assert api("beta").get("/api/v1/advisor/payouts", token=alpha_token).status_code == 401
    with schema_context("beta"):
        make_advisor("luna@example.test")  # the same person, also an advisor at beta
    beta_token = _token(api, "beta", "luna@example.test")
    state = api("beta").get("/api/v1/advisor/payouts", token=beta_token).json()
    assert state["payouts"] == []
    earnings = api("beta").get("/api/v1/advisor/earnings", token=beta_token).json()
    assert (earnings["paid"], earnings["count"]) == (0, 0)


def test_betas_admin_can_neither_see_nor_hold_alphas_advisor(
    api, payouts, alpha_paid, beta, make_user
):
    advisor, _ = alpha_paid
    make_user("beta", "admin@beta.test", role="admin")
    token = _token(api, "beta", "admin@beta.test")
    assert api("beta").get("/api/v1/admin/payouts", token=token).json()["count"] == 0
    response = api("beta").post(
        f"/api/v1/admin/advisors/{advisor.pk}/payouts/hold", {"reason": "x"}, token=token
    )
    assert response.status_code == 404
    with schema_context("alpha"):
        assert not PayoutAccount.objects.get(advisor=advisor).held
        assert Payout.objects.count() == 1


def test_an_alpha_admin_token_is_worthless_on_beta(api, payouts, admin_token, beta):
    response = api("beta").get("/api/v1/admin/payouts", token=admin_token)
    assert response.status_code == 401
