"""Redis killed under a running web server while a call is requested, answered and hung up
and a top-up is paid: every API answers in JSON and never 500; the jobs those requests queued
wait in the database (kernel.job_outbox) instead of being lost, and reach the queue once Redis
is back, where a real worker credits the top-up exactly once. The call is billed for its talk.

Its data is committed (the web server is another process), in the chaos tests' licensee."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import redis
from django_tenants.utils import tenant_context

from kernel.job_outbox.models import PendingJob
from sandboxes.stripe_sandbox import sign
from tenant_apps.calls import livekit_gateway, services
from tenant_apps.calls.models import Call
from tenant_apps.payments.models import StripeEvent
from tenant_apps.wallets.selectors import ledger_verify, wallet_balance_get
from tests.chaos.conftest import (
    REPO,
    Answer,
    WebProcess,
    callrix_env,
    http,
    post_json,
    stripe_connect_to,
    succeeded_event,
    tasks_import_script,
)
from tests.factories import PASSWORD
from tests.tenant_apps.calls.conftest import make_advisor, make_caller

HOST = "chaos.localhost"

# What the scheduler's sweep and a worker do once Redis is back, in a process on the test's
# Redis: send the jobs left in the database, then work the payments queue empty.
SWEEP_AND_WORK = (
    tasks_import_script()
    + """
from dramatiq import Worker, get_broker
from tenants.tasks import jobs_pending_flush_all
jobs_pending_flush_all.fn()
broker = get_broker()
worker = Worker(broker, queues={"payments"}, worker_threads=1, worker_timeout=100)
worker.start()
broker.join("payments", timeout=20_000)
worker.stop()
"""
)


def _json(answer: Answer, *statuses: int) -> dict:
    """An API answer: one of `statuses`, JSON whatever it is (never an HTML page, never 500)."""
    assert answer.content_type.startswith("application/json"), answer
    assert answer.status in statuses, answer
    return answer.json()


def _queued_actors(url: str) -> list[str]:
    client = redis.Redis.from_url(url)
    actors = []
    for key in client.scan_iter(match="*.msgs"):
        actors += [json.loads(raw)["actor_name"] for raw in client.hvals(key)]
    return actors


@pytest.fixture
def house(chaos_house, stripe_stand_in, livekit_process):
    licensee = chaos_house
    with tenant_context(licensee):
        advisor = make_advisor("luna@chaos.test")
        caller = make_caller("casey@chaos.test", credit_minor=5_000)
    creds = stripe_connect_to(stripe_stand_in.base, licensee)
    return licensee, advisor, caller, creds


def test_calls_and_top_ups_through_a_redis_outage(
    house, own_redis, stripe_stand_in, livekit_process, settings
):
    licensee, advisor, caller, creds = house
    env = stripe_stand_in.env | livekit_process.env | {"JOB_OUTBOX_SWEEP_AFTER_SECONDS": "0"}
    web = WebProcess(own_redis.url, **env)
    try:
        tokens = {}
        for user in (caller, advisor.user):
            body = {"email": user.email, "password": PASSWORD}
            tokens[user.pk] = _json(http("POST", f"{web.url}/api/v1/auth/token", HOST, body), 200)

        def api(method: str, path: str, user, body: dict | None = None) -> Answer:
            token = tokens[user.pk]["access"]
            return http(method, f"{web.url}{path}", HOST, body, token=token)

        def webhook_deliver(payload: bytes, signature: str) -> Answer:
            headers = {"Stripe-Signature": signature}
            return http("POST", f"{web.url}/webhooks/stripe", HOST, raw=payload, headers=headers)

        own_redis.kill()
        call = _json(api("POST", "/api/v1/calls", caller, {"advisor_id": advisor.pk}), 201)
        _json(api("POST", f"/api/v1/calls/{call['id']}/accept", advisor.user), 200)
        topup = _json(api("POST", "/api/v1/wallet/topups", caller, {"amount": 2_000}), 201)
        intent = topup["payment_intent"]

        with tenant_context(licensee):
            assert PendingJob.objects.exists()  # the ring's jobs, kept, not lost
            for user in (caller, advisor.user):  # both clients join the room at LiveKit
                token = livekit_gateway.access_token_issue(
                    room=Call.objects.get(pk=call["id"]).room_name,
                    identity=services.identity_of(user.pk),
                    display_name="x",
                )
                livekit_gateway.sandbox_connect(token=token)
            assert services.calls_reconcile() == {"billing": 1}
            talk_started_at = Call.objects.get(pk=call["id"]).talk_started_at
        time.sleep(2)
        ended = _json(api("POST", f"/api/v1/calls/{call['id']}/hangup", caller), 200)
        assert ended["status"] == "completed"

        post_json(f"{stripe_stand_in.base}/_sandbox/payment_intents/{intent}/succeed")
        event_body = succeeded_event(stripe_stand_in.base, creds["account_id"], intent)
        payload = json.dumps(event_body).encode()
        signature = sign(payload, creds["webhook_secret"])
        webhook = webhook_deliver(payload, signature)
        assert _json(webhook, 200)["duplicate"] is False
        with tenant_context(licensee):
            event = StripeEvent.objects.get(processed_at=None)
            waiting = list(PendingJob.objects.values_list("actor_name", flat=True))
        assert "stripe_event_process" in waiting  # stored and its job kept, nothing lost

        own_redis.start()
        subprocess.run(
            [sys.executable, "-c", SWEEP_AND_WORK],
            cwd=REPO,
            env=callrix_env(own_redis.url, **env, DJANGO_SETTINGS_MODULE="callrix.settings"),
            check=True,
            timeout=60,
        )
        assert "call_ring_timeout" in _queued_actors(own_redis.url)  # the delayed ring end
        again = webhook_deliver(payload, signature)  # Stripe delivers at least once
        assert _json(again, 200)["duplicate"] is True

        with tenant_context(licensee):
            assert not PendingJob.objects.exists()
            event.refresh_from_db()
            assert event.processed_at is not None  # by the worker, once Redis was back
            billed = Call.objects.get(pk=call["id"])
            assert billed.cost_minor > 0
            balance = wallet_balance_get(user_id=caller.pk).available_minor
            assert balance == 5_000 + 2_000 - billed.cost_minor  # the top-up credited once
            talked = (billed.ended_at - talk_started_at).total_seconds()
            assert abs(billed.talk_seconds - talked) <= 1
            assert ledger_verify() == []
    finally:
        web.stop()
