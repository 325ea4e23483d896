"""Each dashboard action goes through its app's service, is audited and counted, and shows
bad input at its field."""

from __future__ import annotations

import csv
import io

import pytest
from django_tenants.utils import schema_context
from PIL import Image

from compliance.licensee.models import PrivacyRequest
from identity.models import User
from shared_apps.usage.models import AdminActionCount
from tenant_apps.advisors.models import Advisor
from tenant_apps.dashboard.models import AuditEntry
from tenant_apps.payments.models import TopUpPackage
from tenant_apps.pricing.selectors import policy_get
from tenant_apps.wallets import selectors as wallet_selectors
from tenant_apps.wallets.selectors import ledger_verify
from tests.tenant_apps.calls.conftest import make_advisor
from tests.tenant_apps.payments.conftest import connect_to_sandbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(alpha, signed_in):
    return signed_in("alpha", "admin")


def _csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_inviting_an_advisor_creates_them_mails_them_and_is_audited(
    admin, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/dashboard/advisors/invite",
            {"email": "Nova@Example.test", "display_name": "Nova", "rate": "2.50"},
        )
    assert response.status_code == 302
    with schema_context("alpha"):
        advisor = Advisor.objects.get(user__email="nova@example.test")
        assert advisor.rate_minor_per_minute == 250
        entry = AuditEntry.objects.get(action="advisor.invite")
        assert entry.actor_id == admin.user.pk and entry.target == "nova@example.test"
    assert mailoutbox[-1].to == ["nova@example.test"]
    assert "Alpha Advice" in mailoutbox[-1].subject
    count = AdminActionCount.objects.get(action="advisor.invite")
    assert count.count == 1 and count.licensee.slug == "alpha"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"email": "", "display_name": "Nova", "rate": "2"}, "This field is required"),
        ({"email": "nova@example.test", "display_name": "Nova", "rate": "two"}, "Enter an amount"),
        (
            {"email": "nova@example.test", "display_name": "Nova", "rate": "500"},
            "The rate must be between",
        ),
    ],
)
def test_bad_advisor_invitations_are_shown_at_their_field(admin, form, message):
    response = admin.post("/dashboard/advisors/invite", form)
    assert response.status_code == 400
    assert message in response.content.decode()
    with schema_context("alpha"):
        assert not Advisor.objects.filter(user__email="nova@example.test").exists()
        assert not AuditEntry.objects.exists()


def test_suspending_needs_a_reason_and_reinstating_undoes_it(admin):
    with schema_context("alpha"):
        advisor = make_advisor("luna@example.test")
    url = f"/dashboard/advisors/{advisor.pk}"
    assert admin.post(f"{url}/suspend", {"reason": ""}).status_code == 400
    assert admin.post(f"{url}/suspend", {"reason": "Complaints"}).status_code == 302
    with schema_context("alpha"):
        advisor.refresh_from_db()
        assert advisor.suspended and advisor.status == "offline"
    assert admin.post(f"{url}/reinstate").status_code == 302
    assert admin.post(f"{url}/rate", {"rate": "3.00"}).status_code == 302
    with schema_context("alpha"):
        advisor.refresh_from_db()
        assert not advisor.suspended and advisor.rate_minor_per_minute == 300
        actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["advisor.suspend", "advisor.reinstate", "advisor.rate"]


def test_an_advisor_of_another_licensee_is_not_found(admin, beta):
    with schema_context("beta"):
        other = make_advisor("orion@beta.test")
    with schema_context("alpha"):
        make_advisor("luna@example.test")  # alpha has advisors, just not that one
        assert not Advisor.objects.filter(pk=other.pk, user__email="orion@beta.test").exists()
    assert admin.post(f"/dashboard/advisors/{other.pk}/suspend", {"reason": "x"}).status_code in (
        302,
        404,
    )
    with schema_context("beta"):
        other.refresh_from_db()
        assert not other.suspended


def test_granting_credit_credits_the_wallet_once(admin, make_user):
    person = make_user("alpha", "casey@example.test")
    form = {"amount": "12.50", "reason": "Sorry for the dropped call", "idempotency_key": "k1"}
    assert admin.post(f"/dashboard/users/{person.pk}/credit", form).status_code == 302
    assert admin.post(f"/dashboard/users/{person.pk}/credit", form).status_code == 302
    with schema_context("alpha"):
        assert wallet_selectors.wallet_balance_get(user_id=person.pk).available_minor == 1_250
    page = admin.get(f"/dashboard/users/{person.pk}/").content.decode()
    assert "€12.50" in page


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"amount": "-5", "reason": "x"}, "positive amount"),
        ({"amount": "5.555", "reason": "x"}, "at most 2 decimals"),
        ({"amount": "5", "reason": ""}, "This field is required"),
    ],
)
def test_bad_credit_is_refused_at_its_field(admin, make_user, form, message):
    person = make_user("alpha", "casey@example.test")
    response = admin.post(f"/dashboard/users/{person.pk}/credit", form)
    assert response.status_code == 400 and message in response.content.decode()


def test_credit_goes_only_to_end_users(admin, make_user):
    other_admin = make_user("alpha", "boss@example.test", role="admin")
    response = admin.post(
        f"/dashboard/users/{other_admin.pk}/credit", {"amount": "5", "reason": "x"}
    )
    assert response.status_code == 404


def test_packages_and_billing_policy(admin):
    response = admin.post(
        "/dashboard/packages/new", {"code": "big", "name": "Big", "amount": "50", "bonus": "5"}
    )
    assert response.status_code == 302
    duplicate = admin.post("/dashboard/packages/new", {"code": "big", "name": "B", "amount": "5"})
    assert (
        duplicate.status_code == 400
        and "A package with this code exists" in duplicate.content.decode()
    )
    with schema_context("alpha"):
        package = TopUpPackage.objects.get(code="big")
        assert (package.amount_minor, package.bonus_minor) == (5_000, 500)

    policy = {
        "billing_mode": "per_minute",
        "intro_free_seconds": "60",
        "minimum_minutes": "3",
        "grace_seconds": "30",
        "min_rate": "1.00",
        "max_rate": "9.00",
        "advisor_share_percent": "55",
    }
    assert admin.post("/dashboard/pricing/", policy).status_code == 302
    with schema_context("alpha"):
        saved = policy_get()
        assert saved.billing_mode == "per_minute" and saved.advisor_share_bps == 5_500
        assert (saved.min_rate_minor, saved.max_rate_minor) == (100, 900)
        assert saved.video_enabled is False  # its box was not ticked
    assert (
        admin.post(
            "/dashboard/pricing/",
            {**policy, "video_enabled": "on", "appointment_cancel_hours": "6"},
        ).status_code
        == 302
    )
    with schema_context("alpha"):
        assert (policy_get().video_enabled, policy_get().appointment_cancel_hours) == (True, 6)
    too_much = admin.post("/dashboard/pricing/", {**policy, "advisor_share_percent": "95"})
    assert too_much.status_code == 400 and "exceed the whole charge" in too_much.content.decode()
    upside_down = admin.post("/dashboard/pricing/", {**policy, "min_rate": "10"})
    assert upside_down.status_code == 400 and "lowest rate is above" in upside_down.content.decode()


def test_the_brand_editor_refuses_unreadable_colours_and_applies_good_ones(
    admin, host_client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path)
    brand = {
        "app_name": "Alpha Stars",
        "primary_color": "#ffee88",
        "accent_color": "#a0306e",
        "default_language": "en",
        "currency_display": "symbol",
        "time_zone": "UTC",
    }
    refused = admin.post("/dashboard/brand/", brand)
    assert refused.status_code == 400
    assert "needs at least 4.5:1" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            admin.post("/dashboard/brand/", {**brand, "primary_color": "#123456"}).status_code
            == 302
        )
    assert (
        "--brand-primary: #123456"
        in host_client("alpha.localhost").get("/brand/theme.css").content.decode()
    )

    bad = io.BytesIO(b"GIF89a not really")
    bad.name = "logo.gif"
    response = admin.post("/dashboard/brand/", {"part": "image", "kind": "logo", "image": bad})
    assert response.status_code == 400 and "not an image file" in response.content.decode()
    good = io.BytesIO()
    Image.new("RGB", (300, 100), "#eeeeee").save(good, format="PNG")
    good.seek(0)
    good.name = "logo.png"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post("/dashboard/brand/", {"part": "image", "kind": "logo", "image": good})
    assert response.status_code == 302
    assert host_client("alpha.localhost").get("/brand/logo.png").status_code == 200


def test_stripe_connects_with_working_keys_only(admin, alpha, stripe):
    creds = stripe.create_account(display_name="Alpha Advice")
    bad = admin.post(
        "/dashboard/integrations/",
        {
            "part": "stripe",
            "secret_key": "sk_test_nope",
            "publishable_key": "pk_test_x",
            "webhook_secret": "whsec_x",
        },
    )
    assert bad.status_code == 400
    keys = {k: creds[k] for k in ("secret_key", "publishable_key", "webhook_secret")}
    good = admin.post("/dashboard/integrations/", {"part": "stripe", **keys})
    assert good.status_code == 302
    page = admin.get("/dashboard/integrations/").content.decode()
    assert 'data-state="stripe-connected"' in page
    assert creds["secret_key"] not in page and creds["webhook_secret"] not in page


def test_a_refund_without_stripe_is_refused_with_the_reason(admin, alpha, stripe, make_user):
    connect_to_sandbox(stripe, alpha)
    person = make_user("alpha", "casey@example.test")
    response = admin.post(f"/dashboard/users/{person.pk}/topups/999999/refund", {"reason": "x"})
    assert response.status_code == 404


def test_a_bad_domain_is_refused_and_an_export_is_queued(admin):
    response = admin.post("/dashboard/domains/", {"step": "add", "domain": "not a domain"})
    assert response.status_code == 400
    assert admin.post("/dashboard/exports/").status_code == 302
    page = admin.get("/dashboard/exports/").content.decode()
    assert "queued" in page
    with schema_context("alpha"):
        assert AuditEntry.objects.filter(action="export.request").count() == 1


def test_lists_download_as_csv_without_formula_injection(admin, make_user):
    make_user("alpha", "eve@example.test", display_name='=HYPERLINK("x")')
    response = admin.get("/dashboard/users/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="end-users.csv"' in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == ["id", "name", "email", "active", "joined"]
    assert ['\'=HYPERLINK("x")', "eve@example.test"] == rows[1][1:3]


def test_the_overview_refuses_an_unknown_period(admin):
    response = admin.get("/dashboard/?period=12")
    assert response.status_code == 400 and "7, 30 or 90" in response.content.decode()


def test_an_access_request_downloads_the_users_data_and_is_audited(admin, make_user):
    person = make_user("alpha", "casey@example.test")
    assert admin.get(f"/dashboard/users/{person.pk}/data").status_code == 405
    response = admin.post(f"/dashboard/users/{person.pk}/data")
    assert response.status_code == 200
    assert f'filename="user-{person.pk}-data.json"' in response["Content-Disposition"]
    assert "casey@example.test" in response.content.decode()
    with schema_context("alpha"):
        entry = AuditEntry.objects.get(action="user.subject_export")
        assert entry.target == f"user:{person.pk}"
    other_admin = make_user("alpha", "boss@example.test", role="admin")
    assert admin.post(f"/dashboard/users/{other_admin.pk}/data").status_code == 404


def test_flagging_a_minor_erases_the_account_logs_it_and_keeps_the_books(
    admin, make_user, signed_in, beta
):
    person = make_user("alpha", "teen@example.test", display_name="Teen")
    page = admin.get(f"/dashboard/users/{person.pk}/").content.decode()
    assert f'action="/dashboard/users/{person.pk}/minor"' in page
    # Without the confirmation nothing happens.
    admin.post(f"/dashboard/users/{person.pk}/minor", {})
    with schema_context("alpha"):
        assert User.objects.get(pk=person.pk).erased_at is None
    # Another licensee's admin cannot reach alpha's account.
    beta_admin = signed_in("beta")
    assert (
        beta_admin.post(f"/dashboard/users/{person.pk}/minor", {"confirm": "yes"}).status_code
        == 404
    )

    response = admin.post(f"/dashboard/users/{person.pk}/minor", {"confirm": "yes"})

    assert response.status_code == 302
    with schema_context("alpha"):
        erased = User.objects.get(pk=person.pk)
        assert erased.erased_at is not None and not erased.is_active
        assert erased.email.endswith("@invalid")
        assert PrivacyRequest.objects.get(subject_id=person.pk).channel == "admin"
        assert AuditEntry.objects.filter(action="user.flag_minor").count() == 1
        assert ledger_verify() == []


def test_export_requests_share_the_apis_rate_limit(admin, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "export": "2/h"}
    for _ in range(2):
        assert admin.post("/dashboard/exports/").status_code == 302

    refused = admin.post("/dashboard/exports/", follow=True)

    assert "Too many export requests" in refused.content.decode()
    with schema_context("alpha"):
        # The second request met the one-open-export rule; the third never reached it.
        assert AuditEntry.objects.filter(action="export.request").count() == 1
