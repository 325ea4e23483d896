"""Licensee sign-up on the public host: the account holder, the subscription on Callrix's
Stripe account, and the platform provisioned once paid (at once on a trial)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django_tenants.utils import schema_context

from shared_apps.accounts.models import AccountHolder
from shared_apps.billing.models import Invoice, Subscription
from tenant_apps.pricing.selectors import policy_get
from tenants import selectors
from tenants.models import Licensee
from tests.factories import PASSWORD
from tests.shared_apps.billing.conftest import signup_body

pytestmark = pytest.mark.django_db


def _public_counts() -> tuple[int, int, int]:
    with schema_context("public"):
        return (
            get_user_model().objects.count(),
            AccountHolder.objects.count(),
            Subscription.objects.count(),
        )


def test_paid_plan_waits_for_the_first_payment_then_provisions(
    signup, callrix_stripe, api, host_client
):
    response = signup()

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["next_step"] == "pay" and body["licensee"] is None
    assert body["subscription"]["status"] == "incomplete"
    assert body["subscription"]["plan"] == "basic"
    assert body["invoice"]["amount_due_minor"] == 5_831  # €49 + 19 % VAT in Cyprus
    assert body["invoice"]["hosted_invoice_url"].startswith("http")
    assert body["client_secret"].startswith("pi_")
    assert not Licensee.objects.filter(slug="aurora-psy").exists()
    holder = AccountHolder.objects.select_related("user").get(user__email="ada@aurora.example")
    assert holder.user.role == "account_holder" and holder.company == "Aurora Psychics Ltd"
    assert holder.billing_country == "CY" and holder.licensee is None
    assert host_client("aurora-psy.localhost").get("/api/v1/health").status_code == 404

    callrix_stripe.sandbox.pay_invoice(body["invoice"]["id"])
    outcomes = callrix_stripe.deliver_new()

    licensee = Licensee.objects.get(slug="aurora-psy")
    assert any("provisioned aurora-psy (active)" in outcome for outcome in outcomes), outcomes
    assert licensee.status == "active" and licensee.currency == "EUR"
    assert licensee.display_name == "Aurora Psychics Ltd"
    holder.refresh_from_db()
    assert holder.licensee == licensee
    subscription = Subscription.objects.get(slug="aurora-psy")
    assert subscription.licensee == licensee and subscription.status == "active"
    invoice = Invoice.objects.get(subscription=subscription)
    assert invoice.status == "paid" and invoice.licensee == licensee
    # The owner signs in on the new platform with the password chosen at sign-up.
    token = api("aurora-psy").post(
        "/api/v1/auth/token", {"email": "ada@aurora.example", "password": PASSWORD}
    )
    assert token.status_code == 200, token.content
    with schema_context("aurora_psy"):
        assert get_user_model().objects.get().role == "owner"
        assert policy_get().callrix_fee_bps == 1_500
    assert any("is ready" in message.subject for message in mail.outbox)


def test_trial_plan_provisions_at_once(signup, callrix_stripe, host_client):
    response = signup(plan="starter", slug="trial-co")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["next_step"] == "ready" and body["client_secret"] is None
    assert body["subscription"]["status"] == "trialing" and body["subscription"]["trial_end"]
    assert body["licensee"] == {
        "slug": "trial-co",
        "status": "trial",
        "url": "http://trial-co.localhost:8000/",
    }
    assert host_client("trial-co.localhost").get("/api/v1/health").json()["status"] == "trial"
    with schema_context("trial_co"):
        assert policy_get().callrix_fee_bps == 1_200

    # The zero trial invoice's `invoice.paid` arrives later and changes nothing.
    outcomes = callrix_stripe.deliver_new()
    assert Licensee.objects.filter(slug="trial-co").count() == 1
    assert not any("provisioned" in outcome for outcome in outcomes)
    assert Invoice.objects.get(subscription__slug="trial-co").total_minor == 0


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"slug": "a"}, "slug", "invalid_slug"),
        ({"slug": "Bad_Slug!"}, "slug", "invalid_slug"),
        ({"slug": "admin"}, "slug", "invalid_slug"),
        ({"company": "  "}, "company", "invalid_field"),
        ({"full_name": ""}, "full_name", "invalid_field"),
        ({"email": "not-an-address"}, "email", "invalid_field"),
        ({"phone": "call me"}, "phone", "invalid_field"),
        ({"password": "password"}, "password", "invalid_field"),
        ({"billing_address": {"line1": ""}}, "billing_address.line1", "invalid_field"),
        ({"billing_address": {"city": " "}}, "billing_address.city", "invalid_field"),
        ({"billing_address": {"postal_code": ""}}, "billing_address.postal_code", "invalid_field"),
        ({"billing_address": {"country": "XX"}}, "billing_address.country", "invalid_field"),
        ({"billing_address": {"country": "Cyprus"}}, "billing_address.country", "invalid_field"),
        ({"plan": "platinum"}, "plan", "plan_unavailable"),
        ({"plan": "legacy"}, "plan", "plan_unavailable"),
        ({"billing_address": {"country": None}}, "billing_address.country", "invalid_input"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_kept(
    signup, callrix_stripe, changes, field, code
):
    before = _public_counts()

    response = signup(**changes)

    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
    assert response.json()["code"] == code
    assert _public_counts() == before
    assert callrix_stripe.events("customer.created") == []


def test_missing_fields_are_named(api, callrix_stripe, plans):
    body = signup_body()
    del body["billing_address"]

    response = api(None).post("/api/platform/v1/signup", body)

    assert response.status_code == 422
    assert response.json()["field"] == "billing_address"


def test_taken_slugs_and_addresses_are_refused(signup, alpha, callrix_stripe):
    assert signup().status_code == 201  # aurora-psy, waiting for its payment

    taken_by_licensee = signup(slug="alpha", email="other@example.test")
    held_by_signup = signup(email="second@example.test")
    same_email = signup(slug="fresh-slug")

    assert taken_by_licensee.status_code == 409
    assert taken_by_licensee.json() | {"detail": ""} == {
        "detail": "",
        "code": "slug_taken",
        "field": "slug",
    }
    assert held_by_signup.status_code == 409 and held_by_signup.json()["field"] == "slug"
    assert same_email.status_code == 409 and same_email.json()["code"] == "email_taken"
    assert Subscription.objects.count() == 1


def test_an_expired_signup_frees_its_slug(signup, callrix_stripe):
    first = signup().json()
    callrix_stripe.sandbox.expire_subscription(first["subscription"]["id"])
    callrix_stripe.deliver_new()

    assert Subscription.objects.get().status == "incomplete_expired"
    again = signup(email="again@aurora.example")
    assert again.status_code == 201, again.content


def test_an_unpaid_signup_can_be_started_again_with_the_same_password(signup, callrix_stripe):
    first = signup().json()
    while_pending = signup(slug="other-slug")
    callrix_stripe.sandbox.expire_subscription(first["subscription"]["id"])
    callrix_stripe.deliver_new()

    wrong_password = signup(password="Another-Long-Passphrase-77")
    again = signup(company="Aurora Two Ltd")

    assert while_pending.status_code == 409 and while_pending.json()["code"] == "email_taken"
    assert wrong_password.status_code == 409 and wrong_password.json()["code"] == "email_taken"
    assert again.status_code == 201, again.content
    holder = AccountHolder.objects.get()
    assert holder.company == "Aurora Two Ltd"
    assert holder.subscriptions.count() == 2


def test_stripe_unreachable_leaves_nothing_behind(signup, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # discard port: nothing listens
    before = _public_counts()

    response = signup()

    assert response.status_code == 503
    assert response.json()["code"] == "billing_unavailable"
    assert _public_counts() == before
    assert not selectors.schema_exists(schema_name="aurora_psy")


def test_signup_is_throttled(signup, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "signup": "2/h"}

    statuses = [signup(slug=f"slug-{n}", email=f"o{n}@x.test").status_code for n in range(3)]

    assert statuses == [201, 201, 429]


def test_plans_on_offer_are_listed(api, plans):
    response = api(None).get("/api/platform/v1/plans")

    assert response.status_code == 200
    assert [plan["code"] for plan in response.json()] == ["basic", "starter"]
    assert response.json()[0]["monthly_fee_minor"] == 4_900


def test_signup_is_not_offered_on_a_licensee_host(api, alpha, plans):
    assert api("alpha").post("/api/v1/signup", signup_body()).status_code == 404
