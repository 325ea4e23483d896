"""The public site's plan list, sign-up form and sign-up status page (HTML over the same
sign-up service as the platform API)."""

from __future__ import annotations

import re

import pytest
from django.core import signing
from django_tenants.utils import schema_context

from shared_apps.accounts.models import AccountHolder
from shared_apps.website.views import STATUS_SALT
from tenants.models import Licensee
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def form(**changes) -> dict:
    values = {
        "plan": "basic",
        "slug": "lumen",
        "company": "Lumen Advice GmbH",
        "full_name": "Lea Lumen",
        "email": "lea@lumen.example",
        "phone": "+49 30 123456",
        "password": PASSWORD,
        "address_line1": "Hauptstraße 1",
        "address_city": "Berlin",
        "address_postal_code": "10115",
        "address_country": "DE",
    }
    return values | changes


def status_path(response) -> str:
    assert response.status_code == 302, response.content
    location = response["Location"]
    assert location.startswith("/signup/status/")
    return location


def test_home_lists_the_plans_on_offer_with_their_fees(host_client, plans):
    page = host_client("localhost").get("/").content.decode()

    assert "Basic" in page and "€49.00" in page
    assert "14 days free" in page  # the trial plan
    assert "Legacy" not in page  # retired plans are not offered
    assert 'href="/signup/?plan=basic"' in page


def test_paid_signup_waits_for_payment_then_links_to_the_ready_platform(
    host_client, callrix_stripe, plans
):
    public = host_client("localhost")
    assert 'value="basic" selected' in public.get("/signup/?plan=basic").content.decode()

    status = status_path(public.post("/signup/", form()))
    waiting = public.get(status).content.decode()

    assert 'id="waiting"' in waiting and 'http-equiv="refresh"' in waiting
    pay_url = re.search(r'id="pay" href="([^"]+)"', waiting).group(1)
    invoice_id = pay_url.rstrip("/").rsplit("/", 1)[1]
    assert not Licensee.objects.filter(slug="lumen").exists()

    callrix_stripe.sandbox.pay_invoice(invoice_id)
    callrix_stripe.deliver_new()

    ready = public.get(status).content.decode()
    assert 'id="ready"' in ready and "http://lumen.localhost" in ready
    assert "http-equiv" not in ready
    assert host_client("lumen.localhost").get("/api/v1/health").status_code == 200


def test_trial_signup_is_ready_at_once(host_client, callrix_stripe, plans):
    public = host_client("localhost")
    status = status_path(public.post("/signup/", form(plan="starter", slug="trial-lumen")))

    assert 'id="ready"' in public.get(status).content.decode()
    assert Licensee.objects.get(slug="trial-lumen").status == "trial"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "not-an-address"}, "email"),
        ({"address_country": "Atlantis"}, "address_country"),
        ({"slug": "Bad Slug!"}, "slug"),
        ({"plan": "legacy"}, "plan"),
    ],
)
def test_bad_input_is_shown_on_its_field_and_nothing_is_kept(
    host_client, callrix_stripe, plans, changes, field
):
    response = host_client("localhost").post("/signup/", form(**changes))

    page = response.content.decode()
    assert response.status_code == 422
    alert = re.search(r'role="alert" id="form-error">([^<]+)<', page)
    assert alert and alert.group(1).strip(), "the refusal is said in words"
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', page), page
    assert 'value="Lumen Advice GmbH"' in page  # what was typed is kept, the password is not
    assert PASSWORD not in page
    with schema_context("public"):
        assert not AccountHolder.objects.exists()


def test_status_links_cannot_be_forged_or_guessed(host_client, callrix_stripe, plans):
    public = host_client("localhost")
    status_path(public.post("/signup/", form(plan="starter", slug="trial-lumen")))
    forged = signing.dumps({"s": 1, "pay": ""}, salt="another-salt")

    assert public.get(f"/signup/status/{forged}/").status_code == 404
    assert public.get("/signup/status/1/").status_code == 404
    unknown = signing.dumps({"s": 987654, "pay": ""}, salt=STATUS_SALT)
    assert public.get(f"/signup/status/{unknown}/").status_code == 404


def test_signup_pages_are_not_served_on_a_licensee_host(host_client, alpha, plans):
    licensee_host = host_client("alpha.localhost")

    assert licensee_host.get("/signup/").status_code == 404
    assert licensee_host.post("/signup/", form()).status_code == 404


def test_site_pages_carry_matomo_only_when_configured_and_never_with_dnt(
    host_client, plans, settings
):
    settings.MATOMO_URL = "https://stats.callrix.example/"
    settings.MATOMO_SITE_ID = "3"
    public = host_client("localhost")

    tracked = public.get("/signup/")
    untracked = public.get("/signup/", HTTP_DNT="1")

    assert "data-matomo-site-id" in tracked.content.decode()
    assert "https://stats.callrix.example" in tracked["Content-Security-Policy"]
    assert "DNT" in tracked["Vary"]
    assert "matomo" not in untracked.content.decode()
    assert "stats.callrix.example" not in untracked["Content-Security-Policy"]
