"""A Stripe that does not answer costs a request its explicit timeout, not the SDK's 80 s,
and no row lock is held meanwhile: the top-up row is already committed and is marked failed."""

from __future__ import annotations

import socket
import time

import pytest
from django_tenants.utils import schema_context

from tenant_apps.payments.models import TopUp

pytestmark = pytest.mark.django_db


def test_a_top_up_against_a_silent_stripe_fails_fast_and_keeps_its_record(
    api, tokens, alpha_stripe, settings
):
    with socket.socket() as hole:  # accepts connections, never answers: a paused Stripe
        hole.bind(("127.0.0.1", 0))
        hole.listen(8)
        settings.STRIPE_API_BASE = f"http://127.0.0.1:{hole.getsockname()[1]}"
        settings.STRIPE_TIMEOUT_SECONDS = 0.5
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        started = time.monotonic()
        response = api("alpha").post(
            "/api/v1/wallet/topups", {"amount": 2_000}, token=tokens["caller"]
        )
        took = time.monotonic() - started
    assert response.status_code == 502, response.content
    assert response.json()["code"] == "stripe_unavailable"
    assert took < 3
    with schema_context("alpha"):
        topup = TopUp.objects.get()
        assert topup.status == "failed" and topup.payment_intent_id is None
        assert "could not be reached" in topup.failure_message
