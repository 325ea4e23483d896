"""A stored Stripe event whose job was lost (Redis lost it) is found by the sweeper and
processed; one just received, or already processed, is left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from tenant_apps.payments import services
from tenant_apps.payments.models import StripeEvent, TopUp
from tests.tenant_apps.payments.test_topups import _deliver, _event, _topup, _wallet

pytestmark = pytest.mark.django_db


def test_a_stored_event_that_lost_its_job_is_swept_and_credited_once(
    api, tokens, stripe, alpha_stripe, beta
):
    topup_id = _topup(api, tokens["caller"], amount=2_000).json()["id"]
    with schema_context("alpha"):
        stripe.succeed_payment_intent(TopUp.objects.get(pk=topup_id).payment_intent_id)
    event_id = _event(stripe, alpha_stripe["account_id"], "payment_intent.succeeded")
    assert _deliver(api, stripe, event_id).status_code == 200  # stored; its job never runs
    with schema_context("alpha"):
        assert services.stripe_events_unprocessed() == []  # just received: its job may run
        StripeEvent.objects.filter(event_id=event_id).update(
            received_at=timezone.now() - timedelta(minutes=6)
        )
        assert services.stripe_events_unprocessed() == [event_id]
        for swept in services.stripe_events_unprocessed():  # what the sweeper's jobs do
            assert services.stripe_event_process(event_id=swept) == "credited"
        assert services.stripe_events_unprocessed() == []
    with schema_context("beta"):
        assert services.stripe_events_unprocessed() == []  # each licensee sweeps its own
    assert _wallet(api, tokens["caller"])["available"] == 2_000
