"""The licensee's request log: requests received by e-mail, due dates, actions, the minor
flag, and who may use any of it."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from compliance.licensee import erasure
from compliance.licensee.models import PrivacyRequest
from identity.models import User
from tenant_apps.pricing.services import policy_update
from tenant_apps.wallets.models import AccountKind
from tenant_apps.wallets.services import Leg, account_for, ledger_post
from tests.compliance.conftest import topup_paid
from tests.factories import PASSWORD
from tests.tenant_apps.calls.conftest import credit, make_advisor

pytestmark = pytest.mark.django_db

BASE = "/api/v1/admin/privacy-requests"


def _token(api, email, slug="alpha"):
    response = api(slug).post("/api/v1/auth/token", {"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()["access"]


@pytest.fixture
def people(alpha, make_user, api):
    make_user("alpha", "admin@alpha.test", role="admin")
    subject = make_user("alpha", "subject@example.test")
    with schema_context("alpha"):
        connection.tenant = alpha
        credit(subject.pk, 1_500, key="privacy-test")
    return {"admin": _token(api, "admin@alpha.test"), "subject": subject}


def test_a_request_by_email_is_due_in_30_days_and_overdue_after(api, people):
    received = timezone.now().replace(microsecond=0) - timedelta(days=40)
    response = api("alpha").post(
        BASE,
        {
            "type": "access",
            "email": "Subject@Example.test",
            "received_at": received.isoformat(),
            "notes": "asked by e-mail",
        },
        token=people["admin"],
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["subject_id"] == people["subject"].pk
    assert created["subject_email"] == "subject@example.test"
    assert created["channel"] == "email"
    assert datetime.fromisoformat(created["due_at"]) == received + timedelta(days=30)
    assert created["overdue"] is True and created["completed_at"] is None

    unknown = api("alpha").post(
        BASE, {"type": "erasure", "email": "nobody@example.test"}, token=people["admin"]
    )
    assert unknown.status_code == 201 and unknown.json()["subject_id"] is None

    assert unknown.json()["overdue"] is False  # received now: due in 30 days
    listed = api("alpha").get(BASE, token=people["admin"], status="overdue").json()
    assert [r["id"] for r in listed] == [created["id"]]
    assert listed[0]["overdue"] is True
    assert {
        r["id"] for r in api("alpha").get(BASE, token=people["admin"], status="open").json()
    } == {
        created["id"],
        unknown.json()["id"],
    }

    refused = api("alpha").post(
        f"{BASE}/{unknown.json()['id']}/complete", {"outcome": "refused"}, token=people["admin"]
    )
    assert refused.status_code == 422 and refused.json()["field"] == "notes"
    done = api("alpha").post(
        f"{BASE}/{created['id']}/complete",
        {"outcome": "fulfilled", "notes": "sent the export"},
        token=people["admin"],
    )
    assert done.status_code == 200
    assert done.json()["outcome"] == "fulfilled" and done.json()["overdue"] is False
    again = api("alpha").post(
        f"{BASE}/{created['id']}/complete", {"outcome": "fulfilled"}, token=people["admin"]
    )
    assert again.status_code == 409
    assert api("alpha").get(BASE, token=people["admin"], status="overdue").json() == []


def test_bad_input_names_the_field(api, people):
    admin = people["admin"]
    bad_type = api("alpha").post(BASE, {"type": "gossip", "email": "a@b.test"}, token=admin)
    assert bad_type.status_code == 422 and bad_type.json()["field"] == "type"
    bad_email = api("alpha").post(BASE, {"type": "access", "email": "not-an-address"}, token=admin)
    assert bad_email.status_code == 422 and bad_email.json()["field"] == "email"
    future = api("alpha").post(
        BASE,
        {"type": "access", "email": "a@b.test", "received_at": "2099-01-01T00:00:00Z"},
        token=admin,
    )
    assert future.status_code == 422 and future.json()["field"] == "received_at"
    bad_status = api("alpha").get(BASE, token=admin, status="sometime")
    assert bad_status.status_code == 422 and bad_status.json()["field"] == "status"
    assert api("alpha").get(f"{BASE}/999999", token=admin).status_code == 404


def test_the_admin_exports_and_erases_for_a_request_by_email(api, people):
    admin = people["admin"]
    access = (
        api("alpha")
        .post(BASE, {"type": "access", "email": "subject@example.test"}, token=admin)
        .json()
    )
    exported = api("alpha").post(f"{BASE}/{access['id']}/export", token=admin)
    assert exported.status_code == 200
    assert exported.json()["profile"]["email"] == "subject@example.test"
    assert exported.json()["wallet"]["available"] == 1_500
    wrong_kind = api("alpha").post(f"{BASE}/{access['id']}/erase", token=admin)
    assert wrong_kind.status_code == 422 and wrong_kind.json()["field"] == "request_id"

    asked = (
        api("alpha")
        .post(BASE, {"type": "erasure", "email": "subject@example.test"}, token=admin)
        .json()
    )
    erased = api("alpha").post(f"{BASE}/{asked['id']}/erase", token=admin)
    assert erased.status_code == 200, erased.content
    body = erased.json()
    assert body["user_id"] == people["subject"].pk
    assert body["credit"]["policy"] == "refund" and body["credit"]["total"] == 1_500
    assert body["request"]["id"] == asked["id"]
    assert body["request"]["outcome"] == "fulfilled"
    assert body["request"]["subject_email"].endswith("@invalid")
    with schema_context("alpha"):
        assert not User.objects.filter(email="subject@example.test").exists()
        # both log entries now show the pseudonym, not the address
        emails = set(PrivacyRequest.objects.values_list("subject_email", flat=True))
        assert "subject@example.test" not in emails
    assert api("alpha").post(f"{BASE}/{asked['id']}/erase", token=admin).status_code == 409
    assert _login_status(api, "subject@example.test") == 401


def _login_status(api, email, slug="alpha"):
    return api(slug).post("/api/v1/auth/token", {"email": email, "password": PASSWORD}).status_code


def test_a_minors_account_is_erased_at_once_with_its_credit_refunded(api, people, alpha):
    subject = people["subject"]
    with schema_context("alpha"):
        connection.tenant = alpha
        policy_update(closed_account_balance="forfeit")  # a minor's credit is refunded anyway
        topup_paid(subject, 600, "pi_minor_1")
        ledger_post(  # a debt, which would stop anyone else's erasure
            idempotency_key=f"minor-debt:{subject.pk}",
            kind="refund",
            description="debt a minor cannot owe",
            legs=[
                Leg(account_for(kind=AccountKind.DEBT, owner_id=subject.pk), -200),
                Leg(account_for(kind=AccountKind.REFUNDS), 200),
            ],
        )
    response = api("alpha").post(
        f"/api/v1/admin/users/{people['subject'].pk}/minor", token=people["admin"]
    )
    assert response.status_code == 200, response.content
    body = response.json()
    # the debt does not stop it; the paid credit is refunded, not forfeited
    assert body["credit"]["policy"] == "refund"
    assert body["credit"]["refund_due"] == 600 and body["credit"]["forfeited"] == 0
    assert body["credit"]["promotional_returned"] == 1_500
    assert body["request"]["channel"] == "admin" and body["request"]["type"] == "erasure"
    assert "minor" in body["request"]["notes"]
    with schema_context("alpha"):
        erased = User.objects.get(pk=people["subject"].pk)
        assert erased.erased_at is not None and erased.email.endswith("@invalid")
        assert account_for(kind=AccountKind.WALLET, owner_id=erased.pk).balance_minor == 600
    out = io.StringIO()
    call_command("ledger", "verify", "--licensee", "alpha", stdout=out)
    assert "alpha: ledger clean" in out.getvalue()
    again = api("alpha").post(
        f"/api/v1/admin/users/{people['subject'].pk}/minor", token=people["admin"]
    )
    assert again.status_code == 409 and again.json()["code"] == "already_erased"
    assert (
        api("alpha").post("/api/v1/admin/users/999999/minor", token=people["admin"]).status_code
        == 404
    )


def test_staff_flag_a_minor_through_the_service_in_the_licensees_schema(people, alpha):
    done = erasure.licensee_account_flag_minor(licensee=alpha, user_id=people["subject"].pk)
    assert done.credit.policy == "refund" and done.credit.promotional_minor == 1_500
    connection.set_schema_to_public()
    with schema_context("alpha"):
        logged = PrivacyRequest.objects.get(pk=done.request.pk)
        assert logged.channel == "staff" and logged.logged_by_id is None
        assert User.objects.get(pk=people["subject"].pk).erased_at is not None


def test_end_users_and_advisors_cannot_use_the_admin_endpoints(api, people, alpha):
    with schema_context("alpha"):
        connection.tenant = alpha
        make_advisor("adv.requests@example.test")
    for email in ("subject@example.test", "adv.requests@example.test"):
        token = _token(api, email)
        assert api("alpha").get(BASE, token=token).status_code == 403
        created = api("alpha").post(BASE, {"type": "access", "email": "x@y.test"}, token=token)
        assert created.status_code == 403
        minor = api("alpha").post(f"/api/v1/admin/users/{people['subject'].pk}/minor", token=token)
        assert minor.status_code == 403
    assert api("alpha").get(BASE).status_code == 401
    with schema_context("alpha"):
        assert User.objects.get(pk=people["subject"].pk).erased_at is None


def test_another_licensees_admin_sees_and_touches_nothing_of_alpha(api, people, make_user, beta):
    alpha_request = (
        api("alpha")
        .post(BASE, {"type": "erasure", "email": "subject@example.test"}, token=people["admin"])
        .json()
    )
    make_user("beta", "admin@beta.test", role="admin")
    beta_admin = _token(api, "admin@beta.test", slug="beta")
    assert api("beta").get(BASE, token=beta_admin).json() == []
    assert api("beta").get(f"{BASE}/{alpha_request['id']}", token=beta_admin).status_code == 404
    assert (
        api("beta").post(f"{BASE}/{alpha_request['id']}/erase", token=beta_admin).status_code == 404
    )
    assert (
        api("beta").post(f"{BASE}/{alpha_request['id']}/export", token=beta_admin).status_code
        == 404
    )
    # alpha's admin token is worthless at beta, and beta's at alpha
    assert api("beta").get(BASE, token=people["admin"]).status_code == 401
    assert api("alpha").get(BASE, token=beta_admin).status_code == 401
    # the same user id at beta names beta's own user (or nobody), never alpha's
    flagged = api("beta").post(
        f"/api/v1/admin/users/{people['subject'].pk}/minor", token=beta_admin
    )
    assert flagged.status_code in (200, 404, 409)
    with schema_context("alpha"):
        subject = User.objects.get(pk=people["subject"].pk)
        assert subject.erased_at is None and subject.email == "subject@example.test"
        assert PrivacyRequest.objects.get(pk=alpha_request["id"]).completed_at is None
