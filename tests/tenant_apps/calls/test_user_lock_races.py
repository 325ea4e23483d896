"""Erasure, call requests, top-ups and credit grants serialise on the person's row: none can
slip between another's check and its commit. Real threads on real connections, committed in a
throwaway licensee."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection, connections, transaction
from django.test import Client

from identity.models import User
from identity.tokens import token_pair_issue
from tenant_apps.advisors.models import Advisor
from tenant_apps.calls.models import Call
from tenant_apps.calls.services.lifecycle import call_close_unanswered
from tenant_apps.payments.models import CreditGrant, TopUp
from tenant_apps.wallets.selectors import ledger_verify
from tests.factories import PASSWORD, licensee_destroy, licensee_make
from tests.tenant_apps.calls.conftest import credit, make_advisor
from tests.tenant_apps.payments.conftest import connect_to_sandbox

ROUNDS = 50


@pytest.fixture(scope="module")
def racing(django_db_setup, django_db_blocker):
    """One committed licensee for the module (provisioning one costs seconds); every test
    uses people of its own."""
    with django_db_blocker.unblock():
        licensee = licensee_make(slug="races", name="Races")
        yield licensee
        licensee_destroy(licensee)
        connection.set_schema_to_public()


@pytest.fixture
def licensee(racing, django_db_blocker):
    with django_db_blocker.unblock():
        connection.set_tenant(racing)
        yield racing
        connection.set_schema_to_public()


@pytest.fixture
def fast_passwords(settings):
    """The race is about locks, not hashing: a cheap hasher keeps 50 rounds quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # and every round is a new person from the same address: no per-address limit here
    settings.THROTTLE_RATES = settings.THROTTLE_RATES | {"token": "1000/m"}


def _race(licensee, requests: list) -> list:
    """Run each (method, path, body, token) at once from its own thread; their statuses."""
    results: list = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def run(index: int) -> None:
        method, path, body, token = requests[index]
        client = Client(HTTP_HOST=f"{licensee.slug}.localhost")
        try:
            start.wait()
            response = getattr(client, method)(
                path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
            )
            is_json = response.headers.get("Content-Type", "").startswith("application/json")
            results[index] = (
                response.status_code,
                response.json() if is_json else response.content[:300],
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    connection.set_tenant(licensee)
    return results


def _caller(index: int, credit_minor: int = 2_000, prefix: str = "racer") -> tuple[User, str]:
    user = User.objects.create(
        email=f"{prefix}{index}@example.test",
        role="end_user",
        password=make_password(PASSWORD),
        display_name="Racer",
    )
    if credit_minor:
        credit(user.pk, credit_minor)
    return user, str(token_pair_issue(user=user).access)


def test_erasure_racing_a_call_request_never_lets_both_through(licensee, livekit, fast_passwords):
    advisor = make_advisor("luna@example.test")
    outcomes: Counter = Counter()
    for index in range(ROUNDS):
        user, token = _caller(index)
        erase, call = _race(
            licensee,
            [
                ("delete", "/api/v1/me", {"password": PASSWORD}, token),
                ("post", "/api/v1/calls", {"advisor_id": advisor.pk}, token),
            ],
        )
        erased, called = erase[0] == 200, call[0] == 201
        assert not (erased and called), (index, erase, call)
        assert erase[0] in (200, 409) and call[0] in (201, 401, 403), (erase, call)
        if not erased:
            assert erase[1]["code"] == "call_open"
        outcomes["erased" if erased else "called"] += 1
        user.refresh_from_db()
        assert (user.erased_at is not None) == erased
        assert Call.objects.filter(caller=user).exists() == called
        if called:  # hang up for the next round
            with transaction.atomic():
                ringing = Call.objects.select_for_update().get(caller=user)
                call_close_unanswered(ringing, Call.Status.CANCELLED, "test")
    assert sum(outcomes.values()) == ROUNDS
    assert Advisor.objects.get(pk=advisor.pk).status == "online"
    assert ledger_verify() == []


def test_erasure_racing_a_top_up_never_lets_both_through(licensee, stripe, fast_passwords):
    connect_to_sandbox(stripe, licensee)
    connection.set_tenant(licensee)
    for index in range(10):
        user, token = _caller(index, credit_minor=0, prefix="payer")
        erase, topup = _race(
            licensee,
            [
                ("delete", "/api/v1/me", {"password": PASSWORD}, token),
                ("post", "/api/v1/wallet/topups", {"amount": 3_000}, token),
            ],
        )
        erased, topped = erase[0] == 200, topup[0] == 201
        assert erased != topped, (index, erase, topup)
        if topped:
            assert erase[1]["code"] == "payment_pending"
        assert TopUp.objects.filter(user=user).exists() == topped


def test_concurrent_grants_with_one_key_all_answer_the_one_grant(licensee, settings):
    admin = User.objects.create(email="boss@example.test", role="admin", display_name="Boss")
    user, _ = _caller(0, credit_minor=0, prefix="granted")
    token = str(token_pair_issue(user=admin).access)
    body = {"amount": 500, "reason": "sorry", "idempotency_key": "goodwill-1"}
    results = _race(
        licensee, [("post", f"/api/v1/admin/users/{user.pk}/credits", body, token)] * 10
    )
    assert {status for status, _ in results} == {201}, results
    assert len({answer["id"] for _, answer in results}) == 1
    assert CreditGrant.objects.filter(idempotency_key="goodwill-1").count() == 1
    from tenant_apps.wallets.selectors import wallet_balance_get

    assert wallet_balance_get(user_id=user.pk).available_minor == 500
    assert ledger_verify() == []
