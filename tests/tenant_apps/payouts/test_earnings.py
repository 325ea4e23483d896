"""The advisor's earnings: derived from the ledger and the calls, pending inside the
licensee's clearing period and available after it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tenant_apps.payouts import services
from tests.tenant_apps.payouts.conftest import settle_call

pytestmark = pytest.mark.django_db


def test_earnings_are_pending_during_the_clearing_period_and_available_after(payouts, luna):
    advisor, _ = luna
    payouts.set_policy(clearing_days=7)
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        first = settle_call(advisor, talk_seconds=300)  # €10.00 charged, €6.00 to the advisor
        clock.move_to(start + timedelta(days=3))
        second = settle_call(advisor, talk_seconds=150)  # €5.00 charged, €3.00
        body = payouts.get("/api/v1/advisor/earnings", payouts.token("luna@example.test")).json()
        assert (body["available"], body["pending"], body["paid"]) == (0, 900, 0)
        assert body["clearing_days"] == 7 and body["currency"] == "EUR"
        assert body["count"] == 2
        newest, oldest = body["lines"]
        assert newest["call_id"] == second.pk and oldest["call_id"] == first.pk
        assert oldest == oldest | {
            "talk_seconds": 300,
            "amount_charged": 1_000,
            "advisor_share": 600,
            "licensee_share": 300,
            "platform_fee": 100,
            "callrix_fee": 100,  # the earlier name still answers for existing clients
            "cleared": False,
        }
        assert oldest["cleared_at"].startswith((start + timedelta(days=7)).date().isoformat())

        clock.move_to(start + timedelta(days=7, seconds=1))
        body = payouts.get("/api/v1/advisor/earnings", payouts.token("luna@example.test")).json()
        assert (body["available"], body["pending"]) == (600, 300)
        assert [line["cleared"] for line in body["lines"]] == [False, True]

        clock.move_to(start + timedelta(days=10, seconds=1))
        body = payouts.get("/api/v1/advisor/earnings", payouts.token("luna@example.test")).json()
        assert (body["available"], body["pending"]) == (900, 0)


def test_the_scheduled_job_pays_only_cleared_earnings(payouts, luna):
    advisor, token = luna
    payouts.set_policy(clearing_days=7, minimum_amount_minor=500)
    payouts.onboard(advisor, token)
    payouts.fund(5_000)
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        settle_call(advisor, talk_seconds=300)  # €6.00
        clock.move_to(start + timedelta(days=5))
        settle_call(advisor, talk_seconds=150)  # €3.00
        clock.move_to(start + timedelta(days=8))
        report = services.payouts_run()
        assert (report.paid, report.failed) == (1, 0)
        body = payouts.get("/api/v1/advisor/earnings", payouts.token("luna@example.test")).json()
        assert (body["available"], body["pending"], body["paid"]) == (0, 300, 600)


def test_earnings_pagination_bad_input_is_422(payouts, luna):
    _, token = luna
    for params, field in (({"limit": 0}, "limit"), ({"offset": -1}, "offset")):
        response = payouts.get("/api/v1/advisor/earnings", token, **params)
        assert response.status_code == 422
        assert response.json()["field"] == field


def test_an_advisor_without_earnings_sees_zeros(payouts, luna):
    _, token = luna
    body = payouts.get("/api/v1/advisor/earnings", token).json()
    assert (body["available"], body["pending"], body["paid"], body["count"]) == (0, 0, 0, 0)
