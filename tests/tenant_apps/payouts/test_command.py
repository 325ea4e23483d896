"""`callrix payouts run [--licensee slug]`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tenant_apps.payouts.models import Payout
from tests.tenant_apps.payouts.conftest import earnings_balance, settle_call

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command("payouts", *args, stdout=out)
    return out.getvalue()


def test_payouts_run_for_one_licensee(payouts, luna):
    advisor, token = luna
    settle_call(advisor, talk_seconds=600)
    payouts.onboard(advisor, token)
    payouts.fund(5_000)
    output = _run("run", "--licensee", "alpha")
    assert "alpha: 1 paid, 0 failed, 0 pending" in output
    payouts.enter()
    assert Payout.objects.get().status == "paid"
    assert earnings_balance(advisor) == 0
    assert "alpha: 0 paid, 0 failed, 0 pending" in _run("run", "--licensee", "alpha")


def test_payouts_run_skips_a_licensee_without_stripe(beta):
    assert "beta: skipped (Stripe is not connected)" in _run("run", "--licensee", "beta")


def test_payouts_run_refuses_an_unknown_licensee():
    with pytest.raises(CommandError, match="No licensee"):
        _run("run", "--licensee", "nobody")


def test_the_scheduler_queues_payouts_hourly():
    from callrix.schedule import schedule

    assert any(
        job.actor_path == "tenant_apps.payouts.tasks.payouts_run_all" and job.every_seconds == 3600
        for job in schedule()
    )


def test_payouts_run_says_why_payouts_failed(payouts, luna, make_user):
    advisor, _token = luna
    settle_call(advisor, talk_seconds=600)
    payouts.fund(5_000)  # but the advisor never set up payouts with Stripe
    output = _run("run", "--licensee", "alpha")
    assert (
        "alpha: 0 paid, 1 failed, 0 pending "
        "(failed: 1 × The advisor has not set up payouts with Stripe yet.)"
    ) in output
    # The dashboard says why too, in the reader's language for the status.
    from tests.tenant_apps.webapp.conftest import client_for

    admin = make_user("alpha", "payout-admin@example.test", role="admin")
    client = client_for("alpha", admin)
    client.cookies["language"] = "de"
    page = client.get("/dashboard/payouts/").content.decode()
    assert (
        "Fehlgeschlagen: Die Beraterin oder der Berater hat Auszahlungen bei Stripe noch "
        "nicht eingerichtet." in page
    )
