"""Due-time billing (docs/decisions/0009-due-time-billing.md): a talking call's billing job runs
when its hold needs the next chunk, when the low-credit warning is due and when its credit
runs out — not on a fixed tick."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tenant_apps.calls import services, talk
from tenant_apps.calls.models import Call
from tenant_apps.calls.services.billing import HOLD_REFILL_MARGIN_SECONDS
from tenant_apps.pricing.selectors import policy_get
from tenant_apps.wallets.selectors import ledger_verify
from tests.tenant_apps.calls.conftest import make_caller

pytestmark = pytest.mark.django_db

LOOKAHEAD = services.HOLD_LOOKAHEAD_SECONDS


def _call(call_id) -> Call:
    return Call.objects.select_related("advisor").get(pk=call_id)


def _talking(world, caller=None) -> Call:
    """A call of `caller` (default: the world's) whose parties both joined now."""
    caller = caller or world.caller
    call = services.call_request(caller=caller, advisor_id=world.advisor.pk)
    services.call_accept(user=world.advisor.user, call_id=call.pk)
    world.livekit.join(call.room_name, services.identity_of(caller.pk))
    world.deliver(call.room_name)
    world.livekit.join(call.room_name, services.identity_of(world.advisor.user_id))
    world.deliver(call.room_name)
    return _call(call.pk)


def test_a_talking_call_is_due_for_its_next_chunk_before_any_warning(world, clock):
    call = _talking(world, make_caller("rich@example.test", credit_minor=5_000))
    warning = policy_get().low_funds_warning_seconds
    assert call.held_minor == 400  # the minimum: 120 s at €2.00
    first_due = call.segment_started_at + timedelta(
        seconds=120 - warning - HOLD_REFILL_MARGIN_SECONDS
    )
    assert call.billing_due_at == first_due

    clock.advance((first_due - clock.now).total_seconds())
    assert services.call_bill(call_id=call.pk, due=first_due) == "billing"
    call = _call(call.pk)
    talked = talk.talk_seconds_at(call, clock.now)
    assert call.held_minor == talk.cost_for(call, talked + LOOKAHEAD)  # one chunk ahead
    assert call.hold_extensions == 1 and call.low_funds_warned_at is None
    runs_out = call.segment_started_at + timedelta(seconds=talked + LOOKAHEAD)
    next_due = runs_out - timedelta(seconds=warning + HOLD_REFILL_MARGIN_SECONDS)
    assert call.billing_due_at == next_due
    # A call costs one billing job per chunk of talk, not one every few seconds.
    assert (
        next_due - first_due
    ).total_seconds() == LOOKAHEAD - warning - HOLD_REFILL_MARGIN_SECONDS


def test_a_superseded_billing_job_changes_nothing(world, clock):
    call = _talking(world)
    stale = call.billing_due_at - timedelta(seconds=5)
    clock.advance(40)
    assert services.call_bill(call_id=call.pk, due=stale) == "superseded"
    assert _call(call.pk).held_minor == 400 and _call(call.pk).hold_extensions == 0


def test_a_short_wallet_is_warned_and_ended_at_the_exact_due_times(world, clock):
    poor = make_caller("poor@example.test", credit_minor=500)  # 150 s at €2.00
    call = _talking(world, poor)
    start = call.segment_started_at
    clock.advance((call.billing_due_at - clock.now).total_seconds())
    assert services.call_bill(call_id=call.pk, due=call.billing_due_at) == "billing"
    call = _call(call.pk)
    assert call.held_minor == 500  # as far as the wallet goes
    warn_at = start + timedelta(seconds=150 - policy_get().low_funds_warning_seconds)
    assert call.billing_due_at == warn_at and call.low_funds_warned_at is None

    clock.advance((warn_at - clock.now).total_seconds())
    assert services.call_bill(call_id=call.pk, due=warn_at) == "billing"
    call = _call(call.pk)
    assert call.low_funds_warned_at == warn_at
    assert call.billing_due_at == start + timedelta(seconds=150)

    clock.advance(150 - (clock.now - start).total_seconds())
    assert services.call_bill(call_id=call.pk, due=call.billing_due_at) == "ended: funds exhausted"
    ended = _call(call.pk)
    assert (ended.talk_seconds, ended.cost_minor, ended.end_reason) == (150, 500, "funds_exhausted")
    assert world.wallet(poor.pk).available_minor == 0 and world.wallet(poor.pk).held_minor == 0
    assert ledger_verify() == []


def test_a_dropped_party_is_due_at_the_end_of_the_grace_period(world, clock):
    call = _talking(world)
    clock.advance(40)
    world.livekit.leave(call.room_name, services.identity_of(world.advisor.user_id))
    world.deliver(call.room_name)
    call = _call(call.pk)
    grace_ends = call.absent_since + timedelta(seconds=policy_get().grace_seconds)
    assert call.billing_due_at == grace_ends
    clock.advance((grace_ends - clock.now).total_seconds())
    outcome = services.call_bill(call_id=call.pk, due=grace_ends)
    assert outcome == "ended: party did not come back"
    assert _call(call.pk).talk_seconds == 40


def test_beta_cannot_bill_alphas_call(world, beta, clock):
    from django.db import connection

    call = _talking(world)
    connection.set_tenant(beta)
    try:
        assert services.call_bill(call_id=call.pk, due=call.billing_due_at) == "gone"
    finally:
        connection.set_tenant(world.licensee)
    assert _call(call.pk).hold_extensions == 0
