"""Books watched: the nightly job verifies every licensee's ledger; a breach is recorded in the
public schema, shown in the staff admin, e-mailed to staff, and pauses that licensee's payouts
(only its own) until staff resolve it."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from callrix.schedule import schedule
from shared_apps.billing.models import LedgerAlert
from tenant_apps.advisors.models import Advisor
from tenant_apps.payouts import services as payout_services
from tenant_apps.payouts.errors import PayoutsPaused
from tenant_apps.wallets import services
from tenant_apps.wallets.models import AccountKind
from tenant_apps.wallets.services import Leg, account_for
from tenant_apps.wallets.tasks import ledger_verify_all
from tenants.hooks import licensee_payouts_paused
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _tamper(licensee) -> None:
    with schema_context(licensee.schema_name):
        connection.tenant = licensee
        services.ledger_post(
            idempotency_key="fund",
            kind="credit",
            description="x",
            legs=[
                Leg(account_for(kind=AccountKind.PROMO), -100),
                Leg(account_for(kind=AccountKind.WALLET, owner_id=77), 100),
            ],
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE wallets_ledgeraccount SET balance_minor = 90 WHERE kind='wallet'"
            )


@pytest.fixture
def staff(make_user, host_client):
    make_user("public", "staff@callrix.test", role="staff", is_staff=True, is_superuser=True)
    client = host_client("localhost")
    client.post("/admin/login/", {"username": "staff@callrix.test", "password": PASSWORD})
    return client


def test_the_check_runs_nightly():
    assert any(
        job.actor_path == "tenant_apps.wallets.tasks.ledger_verify_all"
        and job.every_seconds == 86_400
        for job in schedule()
    )


def test_a_breach_is_recorded_mailed_and_pauses_only_that_licensees_payouts(
    alpha, beta, staff, mailoutbox, django_capture_on_commit_callbacks
):
    _tamper(alpha)
    with django_capture_on_commit_callbacks(execute=True):
        ledger_verify_all.fn()
    alert = LedgerAlert.objects.get()
    assert alert.licensee_id == alpha.pk and alert.resolved_at is None
    assert "caches 90 but its entries sum to 100" in alert.breaches[0]
    assert [m.to for m in mailoutbox] == [["staff@callrix.test"]]
    assert "alpha" in mailoutbox[0].subject and "paused" in mailoutbox[0].subject

    assert licensee_payouts_paused(beta.pk) is None
    with schema_context("alpha"):
        connection.tenant = alpha
        assert "paused" in payout_services.payouts_run().skipped
        advisor = Advisor.objects.create(
            user=_advisor_user(), display_name="Luna", rate_minor_per_minute=200
        )
        with pytest.raises(PayoutsPaused) as refused:
            payout_services.payout_request(advisor=advisor)
        assert refused.value.status_code == 409

    # The next night finds it again: still one alert, no second e-mail.
    with django_capture_on_commit_callbacks(execute=True):
        ledger_verify_all.fn()
    assert LedgerAlert.objects.count() == 1 and len(mailoutbox) == 1

    # Shown in the staff admin, and resolved there: payouts resume.
    assert b"alpha" in staff.get("/admin/billing/ledgeralert/").content
    response = staff.post(
        "/admin/billing/ledgeralert/",
        {"action": "ledger_alert_resolve", "_selected_action": [alert.pk]},
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.resolved_by_id is not None
    assert licensee_payouts_paused(alpha.pk) is None


def _advisor_user():
    from identity.models import User

    return User.objects.create(email="luna@alpha.test", role="advisor", display_name="Luna")


def test_a_clean_night_records_nothing(alpha, beta, mailoutbox):
    ledger_verify_all.fn()
    assert not LedgerAlert.objects.exists() and mailoutbox == []
