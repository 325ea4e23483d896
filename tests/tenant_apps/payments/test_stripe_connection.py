"""The licensee connects its own Stripe account: validated live, encrypted, always masked."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tenant_apps.payments.models import StripeConnection

pytestmark = pytest.mark.django_db

PATH = "/api/v1/admin/payments/stripe"


def _keys(creds: dict) -> dict:
    return {k: creds[k] for k in ("secret_key", "publishable_key", "webhook_secret")}


def test_admin_connects_keys_and_only_ever_sees_them_masked(api, stripe, tokens):
    creds = stripe.create_account(display_name="Alpha Stripe")
    assert api("alpha").get(PATH, token=tokens["admin"]).json() == {"connected": False} | {
        k: None
        for k in (
            "account_id",
            "account_name",
            "livemode",
            "secret_key",
            "publishable_key",
            "webhook_secret",
            "connect_webhook_secret",
            "connected_at",
        )
    }
    response = api("alpha").put(PATH, _keys(creds), token=tokens["admin"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["connected"] and body["account_id"] == creds["account_id"]
    assert body["account_name"] == "Alpha Stripe" and body["livemode"] is False
    for field in ("secret_key", "publishable_key", "webhook_secret"):
        assert creds[field] not in response.content.decode()
        assert body[field].endswith(creds[field][-4:]) and "…" in body[field]
    assert creds["secret_key"] not in api("alpha").get(PATH, token=tokens["admin"]).content.decode()

    with schema_context("alpha"):
        stored = StripeConnection.objects.get()
    assert creds["secret_key"] not in stored.secret_key_encrypted
    assert creds["webhook_secret"] not in stored.webhook_secret_encrypted


def test_keys_can_be_rotated(api, stripe, tokens):
    first, second = stripe.create_account(), stripe.create_account()
    api("alpha").put(PATH, _keys(first), token=tokens["admin"])
    response = api("alpha").put(PATH, _keys(second), token=tokens["admin"])
    assert response.json()["account_id"] == second["account_id"]
    with schema_context("alpha"):
        assert StripeConnection.objects.count() == 1


def test_a_key_stripe_refuses_is_422_and_nothing_is_stored(api, stripe, tokens):
    response = api("alpha").put(
        PATH,
        {
            "secret_key": "sk_test_sandbox_doesnotexist123",
            "publishable_key": "pk_test_abcdefgh12",
            "webhook_secret": "whsec_abcdefgh1234",
        },
        token=tokens["admin"],
    )
    assert response.status_code == 422
    assert response.json()["field"] == "secret_key"
    with schema_context("alpha"):
        assert not StripeConnection.objects.exists()


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"secret_key": "not-a-key"}, "secret_key"),
        ({"publishable_key": "sk_test_12345678"}, "publishable_key"),
        ({"webhook_secret": "secret"}, "webhook_secret"),
        ({"publishable_key": "pk_live_abcdefgh1234"}, "publishable_key"),  # mode mismatch
    ],
)
def test_malformed_keys_are_422_naming_the_field(api, stripe, tokens, override, field):
    body = _keys(stripe.create_account()) | override
    response = api("alpha").put(PATH, body, token=tokens["admin"])
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_end_users_cannot_see_or_change_the_connection(api, stripe, tokens):
    creds = stripe.create_account()
    assert api("alpha").get(PATH, token=tokens["caller"]).status_code == 403
    assert api("alpha").put(PATH, _keys(creds), token=tokens["caller"]).status_code == 403
    assert api("alpha").get(PATH).status_code == 401


def test_one_licensees_connection_is_invisible_to_another(api, stripe, tokens, make_user, beta):
    api("alpha").put(PATH, _keys(stripe.create_account()), token=tokens["admin"])
    make_user("beta", "admin@example.test", role="admin")
    beta_token = (
        api("beta")
        .post(
            "/api/v1/auth/token", {"email": "admin@example.test", "password": "Velvet-Compass-2031"}
        )
        .json()["access"]
    )
    assert api("beta").get(PATH, token=beta_token).json()["connected"] is False
