"""The licensee's billing policy: admins read and change it; the charge arithmetic."""

from __future__ import annotations

import pytest

from tenant_apps.pricing import charges
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _token(api, email, slug="alpha"):
    return (
        api(slug)
        .post("/api/v1/auth/token", {"email": email, "password": PASSWORD})
        .json()["access"]
    )


@pytest.fixture
def admins(make_user, alpha, beta):
    make_user("alpha", "admin@example.test", role="admin")
    make_user("beta", "admin@example.test", role="admin")
    make_user("alpha", "user@example.test")


def test_an_admin_changes_the_policy_and_another_licensee_keeps_its_own(api, admins):
    token = _token(api, "admin@example.test")
    response = api("alpha").put(
        "/api/v1/admin/pricing",
        {"billing_mode": "per_minute", "intro_free_seconds": 30, "advisor_share_bps": 7_000},
        token=token,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    # "platform fee" to the licensee's developers; the earlier field name still answers.
    assert body["platform_fee_bps"] == body["callrix_fee_bps"]
    assert (body["billing_mode"], body["intro_free_seconds"], body["advisor_share_bps"]) == (
        "per_minute",
        30,
        7_000,
    )
    beta = api("beta").get("/api/v1/admin/pricing", token=_token(api, "admin@example.test", "beta"))
    assert beta.json()["billing_mode"] == "per_second"
    assert beta.json()["advisor_share_bps"] == 6_000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"billing_mode": "per_hour"}, "billing_mode"),
        ({"min_rate": 500, "max_rate": 100}, "min_rate"),
        ({"advisor_share_bps": 9_500}, "advisor_share_bps"),
        ({"minimum_minutes": 0}, "minimum_minutes"),
    ],
)
def test_bad_policy_input_is_422_and_changes_nothing(api, admins, body, field):
    token = _token(api, "admin@example.test")
    response = api("alpha").put("/api/v1/admin/pricing", body, token=token)
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
    unchanged = api("alpha").get("/api/v1/admin/pricing", token=token).json()
    assert (unchanged["billing_mode"], unchanged["min_rate"], unchanged["advisor_share_bps"]) == (
        "per_second",
        50,
        6_000,
    )


def test_end_users_cannot_read_or_change_the_policy(api, admins):
    token = _token(api, "user@example.test")
    assert api("alpha").get("/api/v1/admin/pricing", token=token).status_code == 403
    assert api("alpha").put("/api/v1/admin/pricing", {}, token=token).status_code == 403


@pytest.mark.parametrize("amount", [0, 1, 2, 99, 317, 1_000, 123_457])
def test_a_split_always_adds_up_to_the_charge(amount):
    parts = charges.split(amount_minor=amount, advisor_share_bps=6_000, callrix_fee_bps=1_000)
    assert parts.total_minor == amount
    assert min(parts.advisor_minor, parts.licensee_minor, parts.callrix_minor) >= 0


def test_seconds_covered_is_the_inverse_of_the_charge():
    for mode in ("per_second", "per_minute"):
        for amount in (0, 1, 199, 400, 1_234):
            seconds = charges.seconds_covered(
                amount_minor=amount, rate_minor_per_minute=200, billing_mode=mode
            )
            assert (
                charges.charge_minor(seconds=seconds, rate_minor_per_minute=200, billing_mode=mode)
                <= amount
            )
            assert (
                charges.charge_minor(
                    seconds=seconds + 1, rate_minor_per_minute=200, billing_mode=mode
                )
                > amount
            )
