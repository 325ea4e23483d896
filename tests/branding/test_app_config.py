"""GET /api/v1/app-config: the licensee's brand and switches for its mobile apps."""

from __future__ import annotations

import pytest

from branding import services
from tests.branding.conftest import png
from tests.tenant_apps.payments.conftest import connect_to_sandbox

pytestmark = pytest.mark.django_db


def test_app_config_carries_the_brand_and_public_keys_only(
    alpha, api, stripe, settings, django_capture_on_commit_callbacks
):
    settings.LIVEKIT_URL = "wss://live.example.test"
    creds = connect_to_sandbox(stripe, alpha)
    with django_capture_on_commit_callbacks(execute=True):
        services.brand_update(
            licensee=alpha,
            app_name="Alpha Stars",
            primary_color="#4b2a7b",
            support_email="Help@Alpha.test",
            terms_url="https://alpha.example/terms",
            default_language="de",
        )
        services.brand_image_set(licensee=alpha, kind="logo", content=png(400, 100))
    response = api("alpha").get("/api/v1/app-config")
    assert response.status_code == 200
    config = response.json()
    assert config["brand"]["app_name"] == "Alpha Stars"
    assert config["brand"]["primary_color"] == "#4b2a7b"
    assert config["brand"]["support_email"] == "help@alpha.test"
    assert config["brand"]["default_language"] == "de"
    assert config["brand"]["logo_url"].startswith("http://alpha.localhost/brand/logo.png?v=")
    assert config["brand"]["icon_url"] is None
    assert config["stripe_publishable_key"] == creds["publishable_key"]
    assert config["livekit_url"] == "wss://live.example.test"
    assert config["features"]["payments"] is True
    body = response.content.decode()
    assert creds["secret_key"] not in body and creds["webhook_secret"] not in body
    assert "Callrix" not in body


def test_app_config_of_a_licensee_without_brand_or_stripe(beta, api):
    config = api("beta").get("/api/v1/app-config").json()
    assert config["licensee"] == "beta"
    assert config["brand"]["app_name"] == "Beta Guidance"
    assert config["stripe_publishable_key"] is None
    assert config["features"]["payments"] is False
    assert config["languages"] == ["en", "de"]


def test_app_config_is_not_served_on_the_public_host(api):
    assert api(None).get("/api/v1/app-config").status_code == 404
