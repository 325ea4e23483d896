"""The staff admin on the public host: who may open it, what it shows, and the lifecycle
actions on licensees — through the services, each in the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.test import TestCase
from django_tenants.utils import schema_context

from compliance.licensee.models import PrivacyRequest
from identity.models import User
from shared_apps.accounts.models import AccountHolder
from shared_apps.billing.models import LicenseeUsage, Plan, StaffNote, SupportRequest
from shared_apps.licensing import lifecycle
from tenants import selectors
from tenants.models import Licensee
from tests.factories import PASSWORD, licensee_make

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    "/admin/",
    "/admin/billing/plan/",
    "/admin/billing/plan/add/",
    "/admin/billing/subscription/",
    "/admin/billing/invoice/",
    "/admin/billing/billingevent/",
    "/admin/billing/revenuesharereport/",
    "/admin/billing/licenseeusage/",
    "/admin/billing/supportrequest/",
    "/admin/billing/supportrequest/add/",
    "/admin/billing/staffnote/",
    "/admin/accounts/accountholder/",
    "/admin/admin/logentry/",
    "/admin/tenants/licensee/",
]


@pytest.fixture
def staff(make_user, host_client):
    make_user("public", "staff@callrix.test", role="staff", is_staff=True, is_superuser=True)
    client = host_client("localhost")
    client.post("/admin/login/", {"username": "staff@callrix.test", "password": PASSWORD})
    return client


@pytest.fixture
def omega():
    return licensee_make(slug="omega", name="Omega Oracles", owner_email="boss@omega.test")


def _act(staff, action: str, licensee: Licensee, **extra):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return staff.post(
            "/admin/tenants/licensee/",
            {"action": action, "_selected_action": [licensee.pk], **extra},
        )


def test_every_billing_page_opens_for_staff(staff, omega):
    LicenseeUsage.objects.create(
        licensee=omega,
        date="2026-10-14",
        advisors=1,
        end_users=2,
        calls=3,
        talk_seconds=61,
        talk_minutes=2,
    )
    for path in ADMIN_PAGES:
        assert staff.get(path).status_code == 200, path
    assert b"Omega Oracles" in staff.get(f"/admin/tenants/licensee/{omega.pk}/change/").content


def test_only_staff_open_the_admin_and_only_on_the_public_host(alpha, make_user, host_client):
    make_user("alpha", "admin@alpha.test", role="admin")
    make_user("public", "holder@example.test", role="account_holder")
    licensee_admin = host_client("alpha.localhost")
    signed_in = licensee_admin.post(
        "/account/login/", {"username": "admin@alpha.test", "password": PASSWORD}
    )
    assert signed_in.status_code == 302  # a session on alpha's host

    # The licensee admin's session opens no admin: not on its host, not on the public one.
    assert licensee_admin.get("/admin/").status_code == 404
    licensee_admin.defaults["HTTP_HOST"] = "localhost"
    refused = licensee_admin.get("/admin/")
    assert refused.status_code == 302 and "/admin/login/" in refused["Location"]

    holder = host_client("localhost")
    holder.post("/admin/login/", {"username": "holder@example.test", "password": PASSWORD})
    assert holder.get("/admin/").status_code == 302
    assert holder.get("/admin/billing/invoice/").status_code == 302


def test_suspend_and_reactivate_go_through_the_services_and_the_audit_log(
    staff, omega, host_client
):
    client = host_client("omega.localhost")

    _act(staff, "suspend", omega)
    assert client.get("/api/v1/health").status_code == 403
    _act(staff, "reactivate", omega)
    assert client.get("/api/v1/health").status_code == 200

    with schema_context("public"):
        entries = list(
            LogEntry.objects.filter(object_id=str(omega.pk)).values_list(
                "change_message", "user__email"
            )
        )
    assert entries == [
        ("Reactivated by staff.", "staff@callrix.test"),
        ("Suspended by staff.", "staff@callrix.test"),
    ]


def test_status_cannot_be_edited_as_a_field(staff, omega):
    page = staff.get(f"/admin/tenants/licensee/{omega.pk}/change/")
    assert b'name="status"' not in page.content


def test_terminate_asks_first_then_closes_the_hosts_and_offers_the_export(
    staff, omega, host_client
):
    confirmation = _act(staff, "terminate", omega)
    assert confirmation.status_code == 200 and b"cannot be undone" in confirmation.content
    assert Licensee.objects.get(pk=omega.pk).status != "terminated"

    _act(staff, "terminate", omega, confirm="yes")

    omega.refresh_from_db()
    assert omega.status == "terminated"
    assert omega.data_retained_until == omega.terminated_at + timedelta(days=30)
    response = host_client("omega.localhost").get("/api/v1/health")
    assert response.status_code == 410 and response.json()["code"] == "licensee_terminated"
    assert host_client("omega.localhost").get("/").status_code == 410
    # The schema waits for the retention job.
    assert selectors.schema_exists(schema_name="omega")
    [notice] = [m for m in mail.outbox if "final data export" in m.subject]
    assert notice.to == ["boss@omega.test"]
    assert f"{omega.data_retained_until:%d %B %Y}" in notice.body
    assert LogEntry.objects.filter(
        object_id=str(omega.pk), change_message="Terminated by staff."
    ).exists()


def test_a_terminated_licensee_cannot_be_reactivated(staff, omega):
    lifecycle.licensee_terminate(slug="omega")

    page = _act(staff, "reactivate", omega)

    assert Licensee.objects.get(pk=omega.pk).status == "terminated"
    assert page.status_code == 302


def test_communication_records_carry_their_last_interaction(staff, omega):
    response = staff.post(
        "/admin/billing/supportrequest/add/",
        {
            "licensee": omega.pk,
            "contact_email": "boss@omega.test",
            "subject": "Onboarding",
            "body": "Please call us.",
            "channel": "email",
            "status": "open",
            "notes-TOTAL_FORMS": "1",
            "notes-INITIAL_FORMS": "0",
            "notes-0-kind": "onboarding_call",
            "notes-0-body": "Walked through the dashboard.",
        },
    )

    assert response.status_code == 302, response.content
    request = SupportRequest.objects.get()
    note = StaffNote.objects.get()
    assert request.last_interaction_at is not None
    assert note.author.email == "staff@callrix.test" and note.licensee == omega
    assert note.last_interaction_at is not None


def test_staff_manage_plans(staff):
    response = staff.post(
        "/admin/billing/plan/add/",
        {
            "code": "pro",
            "name": "Pro",
            "monthly_fee_minor": 19_900,
            "currency": "EUR",
            "included_advisors": 25,
            "included_minutes": 20_000,
            "revenue_share_bps": 800,
            "overage_minor_per_minute": 4,
            "trial_days": 0,
            "active": "on",
        },
    )

    assert response.status_code == 302, response.content
    pro = Plan.objects.get(code="pro")
    assert (pro.monthly_fee_minor, pro.overage_minor_per_minute) == (19_900, 4)
    assert LogEntry.objects.filter(object_repr="Pro (pro)").exists()


def test_account_holders_can_be_corrected_but_not_added_or_deleted(staff, make_user):
    user = make_user("public", "holder@example.test", role="account_holder")
    with schema_context("public"):
        holder = AccountHolder.objects.create(
            user=user,
            full_name="Ada Quill",
            company="Aurora",
            billing_line1="1 Harbour St",
            billing_city="Limassol",
            billing_postal_code="3036",
            billing_country="CY",
        )

    assert staff.get("/admin/accounts/accountholder/add/").status_code == 403
    assert staff.get(f"/admin/accounts/accountholder/{holder.pk}/delete/").status_code == 403
    assert staff.get(f"/admin/accounts/accountholder/{holder.pk}/change/").status_code == 200


def test_staff_flag_a_minors_account_which_is_erased_and_logged(staff, omega, make_user):
    child = make_user("omega", "kid@omega.test", display_name="Kid")
    page = f"/admin/tenants/licensee/{omega.pk}/flag-minor/"

    assert (
        "Flag an account"
        in staff.get(f"/admin/tenants/licensee/{omega.pk}/change/").content.decode()
    )
    unconfirmed = staff.post(page, {"account_id": child.pk})
    assert (
        unconfirmed.status_code == 200 and "This field is required" in unconfirmed.content.decode()
    )
    unknown = staff.post(page, {"account_id": 999_999, "confirm": "on"})
    assert unknown.status_code == 200 and "errorlist" in unknown.content.decode()

    done = staff.post(page, {"account_id": child.pk, "confirm": "on"})

    assert done.status_code == 302
    with schema_context("omega"):
        erased = User.objects.get(pk=child.pk)
        assert erased.erased_at is not None and erased.email.endswith("@invalid")
        assert PrivacyRequest.objects.get(subject_id=child.pk).channel == "staff"
    with schema_context("public"):
        assert LogEntry.objects.filter(change_message__contains=f"#{child.pk} flagged").exists()


def test_only_staff_reach_the_minor_flag(omega, host_client, make_user):
    make_user("public", "holder@omega.test", role="account_holder")
    client = host_client("localhost")
    client.post("/admin/login/", {"username": "holder@omega.test", "password": PASSWORD})

    response = client.post(
        f"/admin/tenants/licensee/{omega.pk}/flag-minor/", {"account_id": 1, "confirm": "on"}
    )

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
