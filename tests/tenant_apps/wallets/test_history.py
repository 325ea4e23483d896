"""The wallet history as people read it: one line per business event, not the ledger's
postings. A 95 s call at €2.00 a minute is one line of −€3.17 with its receipt, however many
holds, extensions and releases it took; a running call shows its reserve; an unanswered call
costs nothing and says so. Admins still get every raw entry."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import translation
from django_tenants.utils import schema_context

from identity.models import User
from tenant_apps.calls import services
from tenant_apps.wallets import history
from tests.factories import PASSWORD, password_hash

pytestmark = pytest.mark.django_db


def _lines(world) -> list[dict]:
    response = world.api("alpha").get("/api/v1/wallet/transactions", token=world.caller_token)
    connection.set_tenant(world.licensee)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _talk(world, clock, seconds: int):
    call = services.call_request(caller=world.caller, advisor_id=world.advisor.pk)
    services.call_accept(user=world.advisor.user, call_id=call.pk)
    call.refresh_from_db()
    world.both_join(call.room_name)
    clock.advance(seconds)
    return call


def test_a_95_second_call_is_one_line_with_its_cost_and_receipt(world, clock):
    call = _talk(world, clock, 95)

    running = _lines(world)[0]
    assert running["description"] == "Call with Luna in progress"
    assert running["amount"] == 0 and running["reserved"] > 0
    assert running["reserved_text"] == f"€{running['reserved'] / 100:.2f} reserved for your call"

    services.call_hangup(user=world.caller, call_id=call.pk)
    call.refresh_from_db()
    assert call.cost_minor == 317
    lines = _lines(world)
    assert [(line["kind"], line["description"], line["amount"]) for line in lines] == [
        ("call", "Call with Luna, 1 min 35 s", -317),
        ("credit", "Credit from Alpha Advice", 2_000),
    ]
    assert lines[0]["reserved"] == 0 and lines[0]["reserved_text"] == ""
    assert lines[0]["call_id"] == call.pk
    assert lines[0]["receipt_url"] == f"/api/v1/calls/{call.pk}/receipt"
    receipt = world.api("alpha").get(lines[0]["receipt_url"], token=world.caller_token)
    connection.set_tenant(world.licensee)
    assert receipt.status_code == 200

    # The admin's raw view still has every posting behind the one line.
    User.objects.create(
        email="books@alpha.test", role="admin", password=password_hash(), display_name="B"
    )
    admin = world.api("alpha").post(
        "/api/v1/auth/token", {"email": "books@alpha.test", "password": PASSWORD}
    )
    connection.set_tenant(world.licensee)
    raw = world.api("alpha").get(
        f"/api/v1/admin/users/{world.caller.pk}/wallet/entries", token=admin.json()["access"]
    )
    connection.set_tenant(world.licensee)
    kinds = [entry["kind"] for entry in raw.json()["results"]]
    assert kinds.count("capture") >= 1 and kinds.count("hold") >= 2
    assert raw.json()["count"] > len(lines)


def test_an_unanswered_call_costs_nothing_and_says_so(world):
    call = services.call_request(caller=world.caller, advisor_id=world.advisor.pk)
    services.call_decline(user=world.advisor.user, call_id=call.pk)
    [line, _credit] = _lines(world)
    assert (line["description"], line["amount"], line["reserved"]) == (
        "Call with Luna, not answered",
        0,
        0,
    )


def test_the_history_reads_in_german(world, clock):
    call = _talk(world, clock, 95)
    services.call_hangup(user=world.caller, call_id=call.pk)
    with translation.override("de"):
        _count, lines = history.wallet_lines(user_id=world.caller.pk, limit=5)
    assert lines[0].text == "Anruf mit Luna, 1 Min. 35 s"
    assert history.duration_text(60) == "1 min"


def test_pages_of_the_history_count_events_not_postings(world, clock):
    for _ in range(3):
        call = _talk(world, clock, 30)
        services.call_hangup(user=world.caller, call_id=call.pk)
    count, first = history.wallet_lines(user_id=world.caller.pk, limit=2)
    _count, rest = history.wallet_lines(user_id=world.caller.pk, limit=2, offset=2)
    assert count == 4  # three calls and the credit
    assert [line.kind for line in first + rest] == ["call", "call", "call", "credit"]
    assert len({line.call_id for line in first + rest if line.call_id}) == 3


def test_another_licensee_sees_nothing_of_this_history(world, clock, beta, make_user, api):
    call = _talk(world, clock, 20)
    services.call_hangup(user=world.caller, call_id=call.pk)
    caller_id = world.caller.pk
    make_user("beta", "admin@beta.test", role="admin")
    beta_admin = (
        api("beta")
        .post("/api/v1/auth/token", {"email": "admin@beta.test", "password": PASSWORD})
        .json()["access"]
    )
    # Beta's admin asking for the same user id reads beta's schema only.
    seen = api("beta").get(f"/api/v1/admin/users/{caller_id}/wallet/entries", token=beta_admin)
    assert seen.status_code == 200 and seen.json()["count"] == 0
    # Alpha's caller's token is worthless on beta's host.
    assert (
        api("beta").get("/api/v1/wallet/transactions", token=world.caller_token).status_code == 401
    )
    # And an end user cannot read the raw entries at all.
    refused = api("alpha").get(
        f"/api/v1/admin/users/{caller_id}/wallet/entries", token=world.caller_token
    )
    assert refused.status_code == 403
    with schema_context("alpha"):
        connection.tenant = world.licensee
