"""The job worker killed (SIGKILL) in the middle of settling a call: its transaction never
commits, nothing of the settlement is left half-written, and the next reconciler run settles
the call exactly once, for its real talk time.

The worker is a real dramatiq worker in a process of its own, on a Redis of the test's own,
working the reconciler's job; the test holds a lock on a ledger account the settlement needs,
so the worker is killed while it waits inside its settlement transaction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from tenant_apps.calls import livekit_gateway, services
from tenant_apps.calls.models import Call
from tenant_apps.wallets.models import AccountKind, LedgerTransaction
from tenant_apps.wallets.selectors import ledger_verify, wallet_balance_get
from tenant_apps.wallets.services import account_for
from tests import postgres_clients
from tests.chaos.conftest import REPO, callrix_env, tasks_import_script
from tests.tenant_apps.calls.conftest import make_advisor, make_caller

# The worker: queue the reconciler's job in the licensee's schema, then work the calls queue.
WORKER = (
    tasks_import_script()
    + """
import sys, time
from django_tenants.utils import schema_context
from dramatiq import Worker, get_broker
from tenant_apps.calls.tasks import calls_reconcile
with schema_context(sys.argv[1]):
    calls_reconcile.send()
worker = Worker(get_broker(), queues={"calls"}, worker_threads=1)
worker.start()
time.sleep(120)
"""
)


def _lock_waiters(database: str) -> list[int]:
    """The backends of `database` waiting for a row lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            [database],
        )
        return [pid for (pid,) in cursor.fetchall()]


def _wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.1)
    return found


@pytest.fixture
def connected_call(chaos_house, livekit_process):
    with tenant_context(chaos_house):
        advisor = make_advisor("sol@worker.chaos.test")
        caller = make_caller("kai@worker.chaos.test", credit_minor=5_000)
        call = services.call_request(caller=caller, advisor_id=advisor.pk)
        services.call_accept(user=advisor.user, call_id=call.pk)
        for user in (caller, advisor.user):
            token = livekit_gateway.access_token_issue(
                room=call.room_name, identity=services.identity_of(user.pk), display_name="x"
            )
            livekit_gateway.sandbox_connect(token=token)
        assert services.calls_reconcile() == {"billing": 1}
        # The ledger accounts the settlement credits, there before it runs.
        for kind in (AccountKind.LICENSEE_REVENUE, AccountKind.CALLRIX_FEE):
            account_for(kind=kind)
        return Call.objects.get(pk=call.pk)


def test_a_worker_killed_mid_settlement_leaves_it_to_the_next_run(
    chaos_licensee, connected_call, own_redis, livekit_process
):
    call = connected_call
    schema = chaos_licensee.schema_name
    database = connection.settings_dict["NAME"]
    time.sleep(2)
    with tenant_context(chaos_licensee):
        assert services.calls_reconcile() == {"billing": 1}  # both still there: seen now
        seen_both = Call.objects.get(pk=call.pk).last_seen_both_at
        livekit_gateway.room_delete(name=call.room_name)  # the room ends at LiveKit

    blocker = psycopg.connect(postgres_clients.database_url(), autocommit=False)
    # The caller's hold: a per-user account the settlement's posting locks (licensee-wide
    # accounts take their changes in shards, with no lock to wait on).
    blocker.execute(
        f'SELECT id FROM "{schema}".wallets_ledgeraccount '
        "WHERE kind = %s AND owner_id = %s FOR UPDATE",
        [AccountKind.HOLD.value, call.caller_id],
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, schema],
        cwd=REPO,
        env=callrix_env(
            own_redis.url, **livekit_process.env, DJANGO_SETTINGS_MODULE="callrix.settings"
        ),
    )
    try:
        [waiting] = _wait_for(lambda: _lock_waiters(database), 60, "the worker never settled")
        worker.send_signal(signal.SIGKILL)  # mid-settlement, its transaction open
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
        blocker.rollback()
        blocker.close()
    _wait_for(lambda: waiting not in _server_backends(database), 20, "its backend stayed")

    with tenant_context(chaos_licensee):
        assert Call.objects.get(pk=call.pk).status == "connected"  # nothing half-written
        settle_key = f"call:{call.pk}:settle"
        assert not LedgerTransaction.objects.filter(idempotency_key=settle_key).exists()
        assert services.calls_reconcile() == {"ended": 1}  # the next run
        assert services.calls_reconcile() == {}
        ended = Call.objects.get(pk=call.pk)
        assert (ended.status, ended.end_reason) == ("completed", "room_gone")
        talked = (seen_both - call.talk_started_at).total_seconds()
        assert abs(ended.talk_seconds - talked) <= 1 and ended.cost_minor > 0
        assert LedgerTransaction.objects.filter(idempotency_key=settle_key).count() == 1
        balance = wallet_balance_get(user_id=call.caller_id)
        assert balance.available_minor == 5_000 - ended.cost_minor and balance.held_minor == 0
        assert ledger_verify() == []


def _server_backends(database: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [database])
        return [pid for (pid,) in cursor.fetchall()]
