"""Licensee account holders' rights over the account data Callrix holds as controller, on the
public host: access/portability (JSON), rectification, erasure — and staff doing the same."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.test import TestCase
from django_tenants.utils import schema_context

from identity.models import User
from shared_apps.accounts.models import AccountHolder
from shared_apps.billing.models import Invoice, Plan, Subscription, SupportRequest
from shared_apps.billing.services import invoice_retain_until
from shared_apps.licensing import lifecycle
from tests.factories import PASSWORD, licensee_make

pytestmark = pytest.mark.django_db

ACCOUNT = "/api/platform/v1/account"


def _holder(make_user, email: str, licensee=None, company: str = "Aurora Ltd") -> AccountHolder:
    user = make_user("public", email, role="account_holder", display_name="Ada Quill")
    with schema_context("public"):
        holder = AccountHolder.objects.create(
            user=user,
            licensee=licensee,
            full_name=f"Holder of {company}",
            company=company,
            phone="+357 25 123456",
            billing_line1="1 Harbour Street",
            billing_city="Limassol",
            billing_postal_code="3036",
            billing_country="CY",
        )
        plan, _ = Plan.objects.get_or_create(
            code="basic", defaults={"name": "Basic", "monthly_fee_minor": 4_900}
        )
        subscription = Subscription.objects.create(
            account_holder=holder,
            plan=plan,
            slug=licensee.slug if licensee else f"{company.split()[0].lower()}-signup",
            company=company,
            licensee=licensee,
            status="active",
        )
        issued = datetime(2026, 10, 1, tzinfo=UTC)
        Invoice.objects.create(
            subscription=subscription,
            licensee=licensee,
            stripe_invoice_id=f"in_{email}",
            number=f"INV-{company.split()[0].upper()}",
            currency="EUR",
            subtotal_minor=4_900,
            tax_minor=931,
            total_minor=5_831,
            customer_name=company,
            customer_address={"line1": "1 Harbour Street", "city": "Limassol", "country": "CY"},
            status="paid",
            period_start=issued,
            period_end=issued,
            issued_at=issued,
            retain_until=invoice_retain_until(issued),
        )
        SupportRequest.objects.create(
            licensee=licensee,
            account_holder=holder,
            contact_email=email,
            subject=f"Question from {company}",
            body="How do payouts work?",
        )
    return holder


@pytest.fixture
def token(api):
    def make(email: str, host: str | None = None) -> str:
        response = api(host).post(
            f"/api/{'platform/v1' if host is None else 'v1'}/auth/token",
            {"email": email, "password": PASSWORD},
        )
        assert response.status_code == 200, response.content
        return response.json()["access"]

    return make


@pytest.fixture
def holders(make_user, alpha, beta):
    return {
        "a": _holder(make_user, "ada@alpha.example", alpha, "Alpha Advice Ltd"),
        "b": _holder(make_user, "bo@beta.example", beta, "Beta Guidance Ltd"),
    }


def test_an_account_holder_downloads_their_own_data_and_nothing_else(
    holders, api, token, make_user
):
    make_user("alpha", "caller@alpha.test")  # the licensee's end user: not Callrix's data
    response = api(None).get(f"{ACCOUNT}/export", token=token("ada@alpha.example"))

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["controller"] == "KCraft Studio LTD"
    assert data["account"]["email"] == "ada@alpha.example"
    assert data["account"]["company"] == "Alpha Advice Ltd"
    assert data["account"]["billing_address"]["city"] == "Limassol"
    assert data["licensee"]["slug"] == "alpha"
    assert [i["number"] for i in data["invoices"]] == ["INV-ALPHA"]
    assert [r["subject"] for r in data["support_requests"]] == ["Question from Alpha Advice Ltd"]
    body = response.content.decode()
    # Account holder B's data, and the licensee's own people, never appear.
    for foreign in ("bo@beta.example", "Beta Guidance", "INV-BETA", "caller@alpha.test"):
        assert foreign not in body


def test_b_cannot_read_a_export_and_other_tokens_are_refused(holders, api, token, make_user):
    b_export = api(None).get(f"{ACCOUNT}/export", token=token("bo@beta.example")).json()
    assert b_export["account"]["email"] == "bo@beta.example"
    assert "ada@alpha.example" not in json.dumps(b_export)

    make_user("public", "staff@callrix.test", role="staff", is_staff=True)
    staff = api(None).get(f"{ACCOUNT}/export", token=token("staff@callrix.test"))
    assert staff.status_code == 403 and staff.json()["code"] == "permission_denied"
    # A licensee host's token is worthless on the public host.
    make_user("alpha", "admin@alpha.test", role="admin")
    tenant_token = token("admin@alpha.test", host="alpha")
    assert api(None).get(f"{ACCOUNT}/export", token=tenant_token).status_code == 401
    assert api(None).get(f"{ACCOUNT}/export").status_code == 401


def test_an_account_holder_corrects_their_account(holders, api, token):
    access = token("ada@alpha.example")

    response = api(None).patch(
        ACCOUNT,
        {
            "full_name": "Ada Lovelace",
            "phone": "+44 20 7946 0000",
            "billing_address": {"line1": "2 Quay Road", "country": "gb"},
        },
        token=access,
    )

    assert response.status_code == 200, response.content
    out = response.json()
    assert out["full_name"] == "Ada Lovelace" and out["phone"] == "+44 20 7946 0000"
    assert out["billing_address"] == {
        "line1": "2 Quay Road",
        "line2": "",
        "city": "Limassol",
        "postal_code": "3036",
        "country": "GB",
    }
    holder = AccountHolder.objects.select_related("user").get(pk=holders["a"].pk)
    assert holder.billing_line1 == "2 Quay Road" and holder.user.display_name == "Ada Lovelace"
    # Issued invoices keep what they were issued with.
    assert Invoice.objects.get(number="INV-ALPHA").customer_address["line1"] == "1 Harbour Street"
    # B is untouched.
    assert AccountHolder.objects.get(pk=holders["b"].pk).billing_line1 == "1 Harbour Street"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"full_name": "  "}, 422, "full_name"),
        ({"phone": "call me"}, 422, "phone"),
        ({"billing_address": {"country": "XX"}}, 422, "billing_address.country"),
        ({"billing_address": {"city": ""}}, 422, "billing_address.city"),
        ({"email": "not-an-address"}, 422, "email"),
        ({"email": "bo@beta.example"}, 409, "email"),
        ({"company": "x" * 201}, 422, "company"),
    ],
)
def test_bad_corrections_are_refused_naming_the_field(holders, api, token, body, status, field):
    response = api(None).patch(ACCOUNT, body, token=token("ada@alpha.example"))

    assert response.status_code == status, response.content
    assert response.json()["field"] == field
    assert AccountHolder.objects.get(pk=holders["a"].pk).full_name == "Holder of Alpha Advice Ltd"


def test_erasure_is_refused_while_the_licensee_is_under_contract(holders, api, token):
    response = api(None).delete(ACCOUNT, {"password": PASSWORD}, token=token("ada@alpha.example"))

    assert response.status_code == 409
    assert response.json()["code"] == "erasure_refused"
    assert "still under contract" in response.json()["detail"]
    assert AccountHolder.objects.filter(pk=holders["a"].pk).exists()


def test_erasure_needs_the_password(holders, api, token):
    response = api(None).delete(ACCOUNT, {"password": "wrong"}, token=token("ada@alpha.example"))
    assert response.status_code == 422 and response.json()["field"] == "password"
    missing = api(None).delete(ACCOUNT, {}, token=token("ada@alpha.example"))
    assert missing.status_code == 422 and missing.json()["field"] == "password"


def test_after_termination_the_account_is_erased_and_its_invoices_kept(api, token, make_user):
    licensee = licensee_make(slug="rights-end", name="Ending Oracles")
    holder = _holder(make_user, "end@ending.example", licensee, "Ending Oracles Ltd")
    access = token("end@ending.example")
    with TestCase.captureOnCommitCallbacks(execute=True):
        lifecycle.licensee_terminate(slug="rights-end")

    response = api(None).delete(ACCOUNT, {"password": PASSWORD}, token=access)

    assert response.status_code == 200, response.content
    assert response.json()["invoices_kept"] == 1
    with schema_context("public"):
        assert not AccountHolder.objects.filter(pk=holder.pk).exists()
        assert not User.objects.filter(email="end@ending.example").exists()
        invoice = Invoice.objects.get(number="INV-ENDING")
        assert invoice.customer_name == "Ending Oracles Ltd"  # tax law: kept as issued
        assert invoice.subscription.account_holder_id is None
        request = SupportRequest.objects.get(subject="Question from Ending Oracles Ltd")
        assert request.account_holder_id is None
    assert api(None).get(f"{ACCOUNT}/export", token=access).status_code == 401


def test_a_sign_up_still_running_blocks_erasure(make_user, api, token):
    _holder(make_user, "new@signup.example", None, "Signup Ltd")

    response = api(None).delete(ACCOUNT, {"password": PASSWORD}, token=token("new@signup.example"))

    assert response.status_code == 409 and "subscription" in response.json()["detail"]


# --- Staff in the admin ---------------------------------------------------------------


@pytest.fixture
def staff(make_user, host_client):
    make_user("public", "staff@callrix.test", role="staff", is_staff=True, is_superuser=True)
    client = host_client("localhost")
    client.post("/admin/login/", {"username": "staff@callrix.test", "password": PASSWORD})
    return client


def _act(staff, action: str, holder: AccountHolder, **extra):
    return staff.post(
        "/admin/accounts/accountholder/",
        {"action": action, "_selected_action": [holder.pk], **extra},
    )


def test_staff_download_an_account_holders_data(staff, holders):
    response = _act(staff, "export_data", holders["a"])

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert data["account"]["email"] == "ada@alpha.example"
    assert "bo@beta.example" not in response.content.decode()


def test_staff_erase_only_after_termination_and_confirmation(staff, holders, make_user):
    refused = _act(staff, "erase", holders["a"], confirm="yes")
    assert refused.status_code == 302
    assert AccountHolder.objects.filter(pk=holders["a"].pk).exists()

    ended = _holder(make_user, "gone@ended.example", None, "Ended Ltd")
    Subscription.objects.filter(account_holder=ended).update(status="canceled")
    asked = _act(staff, "erase", ended)
    assert asked.status_code == 200 and b"cannot be undone" in asked.content
    assert AccountHolder.objects.filter(pk=ended.pk).exists()

    assert _act(staff, "erase", ended, confirm="yes").status_code == 302
    assert not AccountHolder.objects.filter(pk=ended.pk).exists()
    entry = LogEntry.objects.get(object_id=str(ended.pk), change_message="Erased by staff.")
    assert "Ended" not in entry.object_repr
