"""The dramatiq tenant middleware, exercised by a real worker on the real Redis broker."""

from __future__ import annotations

import dramatiq
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import schema_context
from dramatiq import Worker

from tenants.jobs import SCHEMA_OPTION
from tests.factories import worker_stop

RECORDED: list[str] = []


@dramatiq.actor(queue_name="test-tenancy", max_retries=0)
def record_account(email: str) -> None:
    """Writes into whatever schema the middleware activated."""
    RECORDED.append(connection.schema_name)
    get_user_model().objects.create_user(email, None, role="end_user")


@pytest.fixture
def worker():
    broker = dramatiq.get_broker()
    broker.flush("test-tenancy")
    running = Worker(broker, queues={"test-tenancy"}, worker_threads=1, worker_timeout=100)
    running.start()
    yield broker
    worker_stop(running)


def _remove_account(schema: str, email: str) -> None:
    """Tenant accounts cannot be deleted through the ORM (see identity.models); the test's
    own leftovers go by SQL, in that schema only."""
    with schema_context(schema), connection.cursor() as cursor:
        cursor.execute("DELETE FROM identity_user WHERE email = %s", [email])


def _accounts(schema: str, email: str) -> int:
    with schema_context(schema):
        return get_user_model().objects.filter(email=email).count()


def test_a_job_queued_inside_a_licensee_writes_only_there(committed, licensees, worker):
    RECORDED.clear()
    with schema_context(licensees["alpha"].schema_name):
        record_account.send("job@tenant.test")
    worker.join("test-tenancy", timeout=20_000)
    try:
        assert RECORDED == ["alpha"]
        assert _accounts("alpha", "job@tenant.test") == 1
        assert _accounts("beta", "job@tenant.test") == 0
        assert _accounts("public", "job@tenant.test") == 0
    finally:
        _remove_account("alpha", "job@tenant.test")


def test_a_job_naming_an_unknown_schema_fails_and_touches_nothing(committed, licensees, worker):
    RECORDED.clear()
    message = record_account.message_with_options(
        args=("ghost@tenant.test",), **{SCHEMA_OPTION: "no_such_licensee"}
    )
    worker.enqueue(message)
    worker.join("test-tenancy", timeout=20_000)
    assert RECORDED == []
    for schema in ("public", "alpha", "beta"):
        assert _accounts(schema, "ghost@tenant.test") == 0
    # Dead-lettered, not retried: its body sits in the queue's dead-letter hash.
    dead = worker.client.hvals(f"{worker.namespace}:test-tenancy.XQ.msgs")
    assert any(message.message_id.encode() in body for body in dead)


def test_the_worker_returns_to_public_after_each_job(committed, licensees, worker):
    RECORDED.clear()
    with schema_context("beta"):
        record_account.send("first@tenant.test")
    record_account.send("second@tenant.test")  # sent from the public schema
    worker.join("test-tenancy", timeout=20_000)
    try:
        assert RECORDED == ["beta", "public"]
        assert _accounts("public", "second@tenant.test") == 1
        assert _accounts("beta", "second@tenant.test") == 0
    finally:
        _remove_account("beta", "first@tenant.test")
        get_user_model().objects.filter(email="second@tenant.test").delete()
