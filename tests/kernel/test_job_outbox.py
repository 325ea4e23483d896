"""The job outbox (kernel.job_outbox): a job is written with its transaction, sent when that
commits, and forgotten once the queue took it; a rolled-back transaction queues nothing; the
sweep sends what the queue refused and drops what is worth nothing late. (Redis really down,
under a web server: tests/chaos/test_redis_calls_topups.py.)"""

from __future__ import annotations

from datetime import timedelta

import dramatiq
import pytest
from django.db import connection, transaction
from django.utils import timezone

from kernel.job_outbox.models import PendingJob
from kernel.job_outbox.services import job_send_on_commit, jobs_pending_flush
from tenant_apps.calls import tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """What reached the queue, and a switch that makes the queue refuse (as Redis down does)."""
    record: list[tuple[str, tuple, int | None]] = []
    state = {"down": False}

    def send_with_options(self, *, args=(), delay=None, **options):
        if state["down"]:
            raise dramatiq.errors.ConnectionClosed(OSError("Connection refused"))
        record.append((self.actor_name, tuple(args), delay))

    monkeypatch.setattr(dramatiq.Actor, "send_with_options", send_with_options)
    return record, state


def test_a_job_goes_out_when_its_transaction_commits_and_is_forgotten(
    alpha, sent, django_capture_on_commit_callbacks
):
    record, _state = sent
    connection.set_tenant(alpha)
    with django_capture_on_commit_callbacks(execute=True):
        job_send_on_commit(tasks.call_bill, 7, "2026-01-01T00:00:00+00:00", delay_ms=5_000)
        assert record == [] and PendingJob.objects.count() == 1  # not before the commit
    [(actor, args, delay)] = record
    assert (actor, args) == ("call_bill", (7, "2026-01-01T00:00:00+00:00"))
    assert 4_000 < delay <= 5_000  # still due when it was meant to be
    assert not PendingJob.objects.exists()


def test_a_rolled_back_operation_queues_nothing(alpha, sent, django_capture_on_commit_callbacks):
    record, _state = sent
    connection.set_tenant(alpha)
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                job_send_on_commit(tasks.call_ring_timeout, 7)
                raise RuntimeError("the operation failed")
        except RuntimeError:
            pass
    assert record == [] and not PendingJob.objects.exists()


def test_a_refused_job_waits_for_the_sweep_in_its_own_schema(
    alpha, beta, sent, django_capture_on_commit_callbacks
):
    record, state = sent
    connection.set_tenant(alpha)
    state["down"] = True
    with django_capture_on_commit_callbacks(execute=True):
        job_send_on_commit(tasks.call_ring_timeout, 7)  # the request does not fail
    assert record == [] and PendingJob.objects.count() == 1
    assert jobs_pending_flush(older_than_seconds=0) == 0  # still down: kept
    connection.set_tenant(beta)
    state["down"] = False
    assert jobs_pending_flush(older_than_seconds=0) == 0  # beta's sweep sees none of alpha's
    connection.set_tenant(alpha)
    assert jobs_pending_flush(older_than_seconds=60) == 0  # too young: its sender may be at it
    assert jobs_pending_flush(older_than_seconds=0) == 1
    assert record == [("call_ring_timeout", (7,), None)]
    assert not PendingJob.objects.exists()


def test_a_job_worth_nothing_late_is_dropped_unsent(alpha, sent):
    record, _state = sent
    connection.set_tenant(alpha)
    PendingJob.objects.create(
        actor_name="push_deliver", args=[1], expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert jobs_pending_flush(older_than_seconds=0) == 0
    assert record == [] and not PendingJob.objects.exists()
