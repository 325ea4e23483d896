"""Advisors like a marketplace runs them: applications on the licensee's host, approved or
declined in the dashboard (audited, e-mailed), and per-advisor commission overrides (fixed or
tiers by monthly talk minutes) applied to the settlement split and shown on receipts."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tenant_apps.advisors.models import Advisor, AdvisorApplication
from tenant_apps.calls.services.billing import call_history_record
from tenant_apps.dashboard.models import AuditEntry
from tenant_apps.pricing.selectors import policy_get
from tests.factories import PASSWORD
from tests.tenant_apps.calls.conftest import make_caller
from tests.tenant_apps.dashboard.conftest import signed_in  # noqa: F401  (shared fixture)

pytestmark = pytest.mark.django_db

APPLICATION = {
    "email": "Nova@Example.test",
    "display_name": "Nova",
    "headline": "Tarot, twenty years",
    "bio": "I read cards.",
    "categories": "tarot, love",
    "languages": "en, de",
    "rate": "2.50",
}


def test_an_applicant_applies_on_the_licensee_host_within_its_rate_bounds(alpha, host_client):
    page = host_client("alpha.localhost")
    assert page.get("/advise/").status_code == 200
    too_cheap = page.post("/advise/", APPLICATION | {"rate": "0.10"})
    assert too_cheap.status_code == 400 and "between" in too_cheap.content.decode()
    sent = page.post("/advise/", APPLICATION)
    assert sent.status_code == 200 and "Thank you" in sent.content.decode()
    with schema_context("alpha"):
        application = AdvisorApplication.objects.get()
        assert (application.email, application.rate_minor_per_minute) == ("nova@example.test", 250)
        assert sorted(application.categories) == ["love", "tarot"]
        assert sorted(application.languages) == ["de", "en"]
    with schema_context("beta"):
        assert not AdvisorApplication.objects.exists()


def test_the_api_takes_one_pending_application_per_address(alpha, api):
    body = {"email": "sol@example.test", "display_name": "Sol", "rate": 300}
    first = api("alpha").post("/api/v1/advisor-applications", body)
    assert first.status_code == 201 and first.json()["status"] == "pending"
    again = api("alpha").post("/api/v1/advisor-applications", body)
    assert again.status_code == 409 and again.json()["code"] == "email_taken"
    assert api("beta").post("/api/v1/advisor-applications", body).status_code == 201


def test_admins_approve_and_decline_audited_and_emailed(
    alpha,
    beta,
    signed_in,  # noqa: F811
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    with schema_context("alpha"):
        connection.tenant = alpha
        nova = AdvisorApplication.objects.create(
            email="nova@example.test", display_name="Nova", rate_minor_per_minute=250
        )
        rex = AdvisorApplication.objects.create(
            email="rex@example.test", display_name="Rex", rate_minor_per_minute=250
        )
    admin = signed_in("alpha", "admin")
    listing = admin.get("/dashboard/advisors/applications/").content.decode()
    assert "Nova" in listing and "Rex" in listing

    # Beta's admins see none of it and cannot decide it.
    outsider = signed_in("beta", "admin")
    assert "Nova" not in outsider.get("/dashboard/advisors/applications/").content.decode()
    outsider.post(f"/dashboard/advisors/applications/{nova.pk}/approve")
    with schema_context("alpha"):
        assert AdvisorApplication.objects.get(pk=nova.pk).status == "pending"

    with django_capture_on_commit_callbacks(execute=True):
        assert admin.post(f"/dashboard/advisors/applications/{nova.pk}/approve").status_code == 302
        assert (
            admin.post(
                f"/dashboard/advisors/applications/{rex.pk}/reject", {"note": "not now"}
            ).status_code
            == 302
        )
    with schema_context("alpha"):
        nova.refresh_from_db()
        rex.refresh_from_db()
        assert nova.status == "approved" and nova.advisor is not None
        assert Advisor.objects.get(pk=nova.advisor_id).rate_minor_per_minute == 250
        assert (rex.status, rex.decision_note) == ("rejected", "not now")
        actions = set(AuditEntry.objects.values_list("action", flat=True))
        assert {"advisor.application.approve", "advisor.application.reject"} <= actions
    recipients = {tuple(mail.to) for mail in mailoutbox}
    assert ("nova@example.test",) in recipients and ("rex@example.test",) in recipients
    # Decided once: a second approval is refused.
    admin.post(f"/dashboard/advisors/applications/{nova.pk}/approve")
    with schema_context("alpha"):
        assert Advisor.objects.filter(user__email="nova@example.test").count() == 1


def _approved_advisor(alpha) -> Advisor:
    with schema_context("alpha"):
        connection.tenant = alpha
        return Advisor.objects.create(
            user=__import__("identity.models", fromlist=["User"]).User.objects.create(
                email="nova@example.test", role="advisor", display_name="Nova"
            ),
            display_name="Nova",
            rate_minor_per_minute=600,
        )


def test_a_fixed_override_is_billed_and_shown_on_the_receipt(
    alpha,
    signed_in,  # noqa: F811
    api,
    host_client,
):
    advisor = _approved_advisor(alpha)
    admin = signed_in("alpha", "admin")
    saved = admin.post(f"/dashboard/advisors/{advisor.pk}/commission", {"fixed_percent": "70"})
    assert saved.status_code == 302
    too_much = admin.post(f"/dashboard/advisors/{advisor.pk}/commission", {"fixed_percent": "95"})
    assert too_much.status_code == 400
    with schema_context("alpha"):
        connection.tenant = alpha
        policy = policy_get()
        policy.intro_free_seconds = 0
        policy.save()
        caller = make_caller("casey@example.test", credit_minor=10_000)
        call = call_history_record(caller=caller, advisor=advisor, talk_seconds=60)
        assert call.cost_minor == 600 and call.advisor_minor == 420  # 70 %, not the default
        assert AuditEntry.objects.filter(action="advisor.commission").exists()
    token = (
        api("alpha")
        .post("/api/v1/auth/token", {"email": "casey@example.test", "password": PASSWORD})
        .json()
    )
    # The caller's receipt hides the split; the advisor's shows the commission it was paid at.
    with schema_context("alpha"):
        advisor.user.set_password(PASSWORD)
        advisor.user.save()
    advisor_token = (
        api("alpha")
        .post("/api/v1/auth/token", {"email": "nova@example.test", "password": PASSWORD})
        .json()["access"]
    )
    receipt = api("alpha").get(f"/api/v1/calls/{call.pk}/receipt", token=advisor_token).json()
    assert receipt["split"]["advisor"] == 420 and receipt["split"]["advisor_share_bps"] == 7_000
    caller_receipt = api("alpha").get(f"/api/v1/calls/{call.pk}/receipt", token=token["access"])
    assert caller_receipt.json()["split"] is None
    # And on the advisor's earnings in their console.
    with schema_context("alpha"):
        console = host_client("alpha.localhost")
        console.force_login(advisor.user)
    page = console.get("/advisor/").content.decode()
    assert 'data-testid="commission">70 %<' in page


def test_tiers_follow_the_advisors_talk_minutes_this_month(alpha, api, make_user):
    advisor = _approved_advisor(alpha)
    make_user("alpha", "boss@alpha.test", role="admin")
    token = (
        api("alpha")
        .post("/api/v1/auth/token", {"email": "boss@alpha.test", "password": PASSWORD})
        .json()["access"]
    )
    response = api("alpha").put(
        f"/api/v1/admin/advisors/{advisor.pk}/commission",
        {"tiers": [[0, 5_000], [2, 6_000]]},
        token,
    )
    assert response.status_code == 200, response.content
    with schema_context("alpha"):
        connection.tenant = alpha
        policy = policy_get()
        policy.intro_free_seconds = 0
        policy.save()
        caller = make_caller("casey@example.test", credit_minor=10_000)
        first = call_history_record(caller=caller, advisor=advisor, talk_seconds=120)
        second = call_history_record(caller=caller, advisor=advisor, talk_seconds=60)
        assert first.advisor_minor == 600  # 50 % of 1 200: no minutes yet this month
        assert second.advisor_minor == 360  # 60 % of 600: 2 minutes reached
    # Another licensee's admin cannot set it.
    make_user("beta", "boss@beta.test", role="admin")
    beta_token = (
        api("beta")
        .post("/api/v1/auth/token", {"email": "boss@beta.test", "password": PASSWORD})
        .json()["access"]
    )
    assert (
        api("beta")
        .put(f"/api/v1/admin/advisors/{advisor.pk}/commission", {"fixed_bps": 1}, beta_token)
        .status_code
        == 404
    )
