"""Scheduled and requested payouts through Stripe Connect transfers: paid once, failures that
leave the earnings intact and succeed on the next run, reversals that restore them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tenant_apps.payments import stripe_gateway
from tenant_apps.payouts import services, transfers
from tenant_apps.payouts.models import Payout
from tenant_apps.wallets.selectors import ledger_verify
from tests.tenant_apps.payouts.conftest import (
    earnings_balance,
    payouts_balance,
    sandbox_transfers,
    settle_call,
    stripe_client,
)

pytestmark = pytest.mark.django_db


def test_cleared_earnings_are_paid_once_by_a_connect_transfer(payouts, luna):
    advisor, token = luna
    settle_call(advisor, talk_seconds=300)  # €6.00
    settle_call(advisor, talk_seconds=600)  # €12.00
    account_id = payouts.onboard(advisor, token)
    payouts.fund(5_000)

    report = services.payouts_run()
    assert (report.paid, report.failed, report.pending) == (1, 0, 0)
    again = services.payouts_run()
    assert (again.paid, again.failed) == (0, 0)

    [transfer] = sandbox_transfers(payouts.stripe, payouts.creds)
    assert (transfer["amount"], transfer["currency"], transfer["destination"]) == (
        1_800,
        "eur",
        account_id,
    )
    payout = Payout.objects.get()
    assert payout.status == Payout.Status.PAID and payout.stripe_transfer_id == transfer["id"]
    assert payout.amount_minor == 1_800 and payout.trigger == "schedule"
    assert earnings_balance(advisor) == 0
    assert payouts_balance() == 1_800
    assert ledger_verify() == []

    earnings = payouts.get("/api/v1/advisor/earnings", token).json()
    assert (earnings["available"], earnings["pending"], earnings["paid"]) == (0, 0, 1_800)
    state = payouts.get("/api/v1/advisor/payouts", token).json()
    assert [(p["status"], p["amount"]) for p in state["payouts"]] == [("paid", 1_800)]
    assert state["next_payout"]["amount"] == 0


def test_earnings_below_the_minimum_wait(payouts, luna):
    advisor, token = luna
    payouts.set_policy(minimum_amount_minor=2_000)
    settle_call(advisor, talk_seconds=300)  # €6.00
    payouts.onboard(advisor, token)
    payouts.fund(5_000)
    assert services.payouts_run().paid == 0
    assert not Payout.objects.exists()
    assert earnings_balance(advisor) == 600


def test_an_advisor_not_onboarded_keeps_the_earnings_and_is_paid_next_run(payouts, luna):
    advisor, token = luna
    settle_call(advisor, talk_seconds=600)  # €12.00
    payouts.fund(5_000)

    assert services.payouts_run().failed == 1
    payout = Payout.objects.get()
    assert (payout.status, payout.failure_code) == ("failed", "not_onboarded")
    assert earnings_balance(advisor) == 1_200 and payouts_balance() == 0
    assert sandbox_transfers(payouts.stripe, payouts.creds) == []

    payouts.onboard(advisor, token)
    assert services.payouts_run().paid == 1
    payout.refresh_from_db()
    assert (payout.status, payout.failure_code, payout.attempts) == ("paid", "", 1)
    assert earnings_balance(advisor) == 0
    assert len(sandbox_transfers(payouts.stripe, payouts.creds)) == 1
    assert ledger_verify() == []


def test_a_transfer_refused_for_low_platform_balance_is_retried_with_a_new_key(payouts, luna):
    advisor, token = luna
    settle_call(advisor, talk_seconds=600)  # €12.00
    payouts.onboard(advisor, token)
    payouts.fund(500)  # less than the payout

    assert services.payouts_run().failed == 1
    payout = Payout.objects.get()
    assert (payout.status, payout.failure_code) == ("failed", "balance_insufficient")
    assert "insufficient available funds" in payout.failure_reason
    assert earnings_balance(advisor) == 1_200 and payouts_balance() == 0
    assert ledger_verify() == []
    state = payouts.get("/api/v1/advisor/payouts", token).json()
    assert state["payouts"][0]["failure_code"] == "balance_insufficient"

    payouts.fund(5_000)
    assert services.payouts_run().paid == 1
    payout.refresh_from_db()
    assert (payout.status, payout.attempts) == ("paid", 2)
    assert [t["amount"] for t in sandbox_transfers(payouts.stripe, payouts.creds)] == [1_200]
    assert earnings_balance(advisor) == 0 and payouts_balance() == 1_200
    assert ledger_verify() == []


def test_held_payouts_wait_until_the_admin_releases_them(payouts, luna, admin_token):
    advisor, token = luna
    settle_call(advisor, talk_seconds=600)
    payouts.onboard(advisor, token)
    payouts.fund(5_000)
    hold = payouts.post(
        f"/api/v1/admin/advisors/{advisor.pk}/payouts/hold",
        admin_token,
        {"reason": "Checking complaints"},
    )
    assert hold.status_code == 200, hold.content
    assert hold.json()["held"] is True

    assert services.payouts_run().failed == 1
    payout = Payout.objects.get()
    assert payout.failure_code == "held" and "Checking complaints" in payout.failure_reason
    assert earnings_balance(advisor) == 1_200
    state = payouts.get("/api/v1/advisor/payouts", token).json()
    assert state["held"] is True and state["hold_reason"] == "Checking complaints"
    refused = payouts.post("/api/v1/advisor/payouts", token, {})
    assert (refused.status_code, refused.json()["code"]) == (409, "payouts_held")

    release = payouts.post(f"/api/v1/admin/advisors/{advisor.pk}/payouts/release", admin_token)
    assert release.json()["held"] is False
    assert services.payouts_run().paid == 1
    assert earnings_balance(advisor) == 0
    assert len(sandbox_transfers(payouts.stripe, payouts.creds)) == 1


def test_a_payout_left_pending_by_a_crash_is_finished_with_the_same_transfer(payouts, luna):
    advisor, token = luna
    settle_call(advisor, talk_seconds=600)
    payouts.onboard(advisor, token)
    payouts.fund(5_000)
    policy = services.selectors.policy_get()
    period = services.periods.period_key(policy.schedule, timezone.now())
    # Phase 1 committed, then Stripe made the transfer but the process died before the reply
    # was recorded.
    payout = services._scheduled_open(advisor_id=advisor.pk, period=period, policy=policy)
    assert payout.status == "pending" and earnings_balance(advisor) == 0
    made = stripe_gateway.transfer_create(
        secret_key=payouts.creds["secret_key"],
        amount_minor=payout.amount_minor,
        currency=payout.currency,
        destination=payout.destination_account_id,
        transfer_group=transfers.transfer_group_of(payout),
        metadata=transfers.transfer_metadata(payout),
        idempotency_key=transfers.transfer_idempotency_key(payout),
    )

    report = services.payouts_run()
    assert report.paid == 1
    payout.refresh_from_db()
    assert payout.status == "paid" and payout.stripe_transfer_id == made.id
    assert len(sandbox_transfers(payouts.stripe, payouts.creds)) == 1
    assert ledger_verify() == []


def test_a_reversed_transfer_restores_the_earnings_once_per_reversal(payouts, luna):
    advisor, token = luna
    settle_call(advisor, talk_seconds=600)  # €12.00
    payouts.onboard(advisor, token)
    payouts.fund(5_000)
    services.payouts_run()
    payout = Payout.objects.get()
    client = stripe_client(payouts.creds)

    client.v1.transfers.reversals.create(payout.stripe_transfer_id, params={"amount": 500})
    first = payouts.latest_event("transfer.reversed")
    assert payouts.deliver(first) == "reversal of 500 restored to earnings"
    assert earnings_balance(advisor) == 500 and payouts_balance() == 700
    payout.refresh_from_db()
    assert (payout.status, payout.reversed_minor) == ("paid", 500)

    client.v1.transfers.reversals.create(payout.stripe_transfer_id)  # the rest
    second = payouts.latest_event("transfer.reversed")
    assert payouts.deliver(second) == "reversal of 700 restored to earnings"
    # A redelivery is applied once; the older event's reversals are already booked.
    assert payouts.deliver(second) == "reversal of 700 restored to earnings"
    older = payouts.stripe.events(payouts.creds["account_id"], "transfer.reversed")[-1]
    assert services.payout_transfer_reversed(transfer=older["data"]["object"]) == (
        "already restored"
    )
    payout.refresh_from_db()
    assert (payout.status, payout.reversed_minor) == ("reversed", 1_200)
    assert earnings_balance(advisor) == 1_200 and payouts_balance() == 0
    earnings = payouts.get("/api/v1/advisor/earnings", token).json()
    assert (earnings["available"], earnings["paid"]) == (1_200, 0)
    assert ledger_verify() == []


def test_transfer_created_events_are_acknowledged_and_ignored(payouts, luna):
    advisor, token = luna
    settle_call(advisor, talk_seconds=600)
    payouts.onboard(advisor, token)
    payouts.fund(5_000)
    services.payouts_run()
    assert payouts.deliver(payouts.latest_event("transfer.created")).startswith("ignored")


def test_the_scheduled_run_is_due_once_per_period(payouts, luna):
    advisor, token = luna
    payouts.onboard(advisor, token)
    payouts.fund(5_000)
    start = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0)
    with time_machine.travel(start, tick=False) as clock:
        settle_call(advisor, talk_seconds=600)
        assert services.payouts_run(respect_schedule=True).paid == 1
        settle_call(advisor, talk_seconds=900)  # €18.00
        clock.move_to(start + timedelta(hours=1))
        assert services.payouts_run(respect_schedule=True).skipped == "not due"
        clock.move_to(start + timedelta(days=1))
        assert services.payouts_run(respect_schedule=True).paid == 1
    assert [p.period_key for p in Payout.objects.order_by("id")] == [
        start.date().isoformat(),
        (start + timedelta(days=1)).date().isoformat(),
    ]
    assert earnings_balance(advisor) == 0


# --- Requested by the advisor --------------------------------------------------------------


def test_an_advisor_requests_a_payout_above_the_minimum(payouts, luna):
    advisor, token = luna
    settle_call(advisor, talk_seconds=600)  # €12.00
    payouts.onboard(advisor, token)
    payouts.fund(5_000)
    response = payouts.post("/api/v1/advisor/payouts", token, {"amount": 1_000})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["amount"], body["trigger"]) == ("paid", 1_000, "request")
    assert body["stripe_transfer_id"].startswith("tr_")
    assert earnings_balance(advisor) == 200
    earnings = payouts.get("/api/v1/advisor/earnings", token).json()
    assert (earnings["available"], earnings["paid"]) == (200, 1_000)


def test_a_request_without_a_body_asks_for_everything_cleared(payouts, luna):
    advisor, token = luna
    settle_call(advisor, talk_seconds=600)
    payouts.onboard(advisor, token)
    payouts.fund(5_000)
    response = payouts.api("alpha").client.post(
        "/api/v1/advisor/payouts", b"", "application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    payouts.enter()
    assert response.status_code == 201, response.content
    assert (response.json()["amount"], response.json()["status"]) == (1_200, "paid")
    assert earnings_balance(advisor) == 0


@pytest.mark.parametrize(
    ("amount", "detail"),
    [(999, "The smallest payout is €10.00."), (1_300, "Only €12.00 has cleared for payout.")],
)
def test_a_requested_payout_outside_the_limits_is_refused(payouts, luna, amount, detail):
    advisor, token = luna
    settle_call(advisor, talk_seconds=600)
    payouts.onboard(advisor, token)
    response = payouts.post("/api/v1/advisor/payouts", token, {"amount": amount})
    assert response.status_code == 422
    assert (response.json()["field"], response.json()["detail"]) == ("amount", detail)
    assert earnings_balance(advisor) == 1_200
    assert not Payout.objects.exists()


def test_a_requested_payout_needs_onboarding_and_a_valid_amount(payouts, luna):
    advisor, token = luna
    settle_call(advisor, talk_seconds=600)
    refused = payouts.post("/api/v1/advisor/payouts", token, {})
    assert (refused.status_code, refused.json()["code"]) == (409, "payouts_not_enabled")
    for amount in (0, -5, "lots"):
        response = payouts.post("/api/v1/advisor/payouts", token, {"amount": amount})
        assert response.status_code == 422
        assert response.json()["field"] == "amount"


def test_a_requested_payout_refused_by_stripe_is_reported_and_the_earnings_stay(payouts, luna):
    advisor, token = luna
    settle_call(advisor, talk_seconds=600)
    payouts.onboard(advisor, token)
    response = payouts.post("/api/v1/advisor/payouts", token, {})
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["failure_code"]) == (
        "failed",
        "balance_insufficient",
    )
    assert earnings_balance(advisor) == 1_200
    payouts.fund(5_000)
    assert services.payouts_run().paid == 1
    assert earnings_balance(advisor) == 0
    assert ledger_verify() == []


# --- Admins --------------------------------------------------------------------------------


def test_admins_set_the_payout_policy(payouts, admin_token):
    response = payouts.put(
        "/api/v1/admin/payouts/policy",
        admin_token,
        {"schedule": "monthly", "minimum_amount": 5_000, "clearing_days": 14},
    )
    assert response.status_code == 200, response.content
    assert payouts.get("/api/v1/admin/payouts/policy", admin_token).json() == {
        "schedule": "monthly",
        "minimum_amount": 5_000,
        "clearing_days": 14,
        "currency": "EUR",
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"schedule": "hourly", "minimum_amount": 100}, "schedule"),
        ({"schedule": "daily", "minimum_amount": 0}, "minimum_amount"),
        ({"schedule": "daily"}, "minimum_amount"),
        ({"schedule": "daily", "minimum_amount": 100, "clearing_days": 91}, "clearing_days"),
        ({"schedule": "daily", "minimum_amount": 100, "clearing_days": -1}, "clearing_days"),
    ],
)
def test_bad_payout_policies_are_422(payouts, admin_token, body, field):
    response = payouts.put("/api/v1/admin/payouts/policy", admin_token, body)
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_admins_list_payouts_and_filter_them(payouts, luna, admin_token):
    advisor, token = luna
    settle_call(advisor, talk_seconds=600)
    payouts.onboard(advisor, token)
    services.payouts_run()  # refused: no balance
    body = payouts.get("/api/v1/admin/payouts", admin_token).json()
    assert body["count"] == 1
    assert (
        body["results"][0] | {"advisor_id": advisor.pk, "advisor_name": "Luna"}
        == (body["results"][0])
    )
    assert payouts.get("/api/v1/admin/payouts", admin_token, status="paid").json()["count"] == 0
    bad = payouts.get("/api/v1/admin/payouts", admin_token, status="lost")
    assert (bad.status_code, bad.json()["field"]) == (422, "status")
    assert payouts.get("/api/v1/admin/payouts", token).status_code == 403


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_hold_needs_a_reason(payouts, luna, admin_token, reason):
    advisor, _ = luna
    response = payouts.post(
        f"/api/v1/admin/advisors/{advisor.pk}/payouts/hold", admin_token, {"reason": reason}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "reason"


def test_holding_an_unknown_advisor_is_404(payouts, admin_token):
    response = payouts.post(
        "/api/v1/admin/advisors/999999/payouts/hold", admin_token, {"reason": "x"}
    )
    assert (response.status_code, response.json()["field"]) == (404, "advisor_id")
    response = payouts.post("/api/v1/admin/advisors/abc/payouts/release", admin_token)
    assert (response.status_code, response.json()["field"]) == (422, "advisor_id")
