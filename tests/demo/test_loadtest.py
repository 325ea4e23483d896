"""The load test's checks (`callrix loadtest`, scripts/loadtest): they find a failed request,
a call billed for other than its talk, a call never ended or never made, and a negative
wallet; and Locust can load the mix they judge. The full run is a minute of the whole stack,
run from the README, not here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db.models import F
from django.utils import timezone

from demo.loadtest import checks
from demo.management.commands.loadtest import LOCUSTFILE
from tenant_apps.calls import services
from tenant_apps.calls.models import Call
from tenant_apps.wallets.models import AccountKind, LedgerEntry, LedgerTransaction
from tenant_apps.wallets.services import account_for
from tests.tenant_apps.calls.conftest import make_advisor, make_caller

# Locust 2's `--csv` header, as its stats writer spells it.
HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


def _stats(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "locust_stats.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def test_stats_are_read_per_endpoint_and_a_failed_request_is_a_finding(tmp_path):
    path = _stats(
        tmp_path,
        "GET,/api/v1/wallet,40,0,9,11.2,5.1,80.3,120,4.0,0.0,9,10,11,12,20,31,60,75,80,80,80",
        "POST,/api/v1/calls,10,1,120,130.0,90.0,400.0,300,1.0,0.1,120,130,140,150,300,380,400,400,400,400,400",
        ",Aggregated,50,1,10,35.0,5.1,400.0,156,5.0,0.1,10,12,14,20,120,300,390,400,400,400,400",
    )
    rows, total = checks.stats_read(path)
    assert [(row.method, row.name, row.p99_ms) for row in rows] == [
        ("GET", "/api/v1/wallet", 75.0),
        ("POST", "/api/v1/calls", 400.0),
    ]
    assert (total.requests, total.failures, total.p95_ms) == (50, 1, 300.0)
    assert checks.stats_findings(rows, total) == ["1 of 10 POST /api/v1/calls failed"]
    table = checks.stats_table(rows, total)
    assert table[-1].startswith("Aggregated") and "400" in table[-1]


def test_a_run_that_made_no_request_is_not_clean(tmp_path):
    rows, total = checks.stats_read(
        _stats(
            tmp_path,
            ",Aggregated,0,0,0,0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A",
        )
    )
    assert checks.stats_findings(rows, total) == ["no request was made"]
    with pytest.raises(ValueError, match="no Aggregated row"):
        checks.stats_read(_stats(tmp_path))


@pytest.mark.django_db
def test_a_call_billed_for_its_talk_passes_and_each_breach_is_found(world, clock):
    since = timezone.now() - timedelta(seconds=1)
    call = world.request_call()
    world.post(f"/api/v1/calls/{call['id']}/accept", world.advisor_token)
    world.both_join(Call.objects.get(pk=call["id"]).room_name)
    clock.advance(61)
    ended = world.post(f"/api/v1/calls/{call['id']}/hangup", world.caller_token).json()
    assert (ended["talk_seconds"], ended["cost"]) == (61, 203)

    def findings(driven):
        return checks.books_findings(
            licensee=world.licensee, since=since, callers_domain="example.test", driven_talk=driven
        )

    assert findings({call["id"]: 61.6}) == []
    assert findings({call["id"]: 70.0}) == [
        f"call {call['id']}: talked 70.0 s but 61 s were billed"
    ]
    assert findings({call["id"]: 61.0, 999_999: 5.0}) == [
        "call 999999 was driven but is not in the books"
    ]
    # Charged three cents short (the split still adds up, so only the check can tell).
    Call.objects.filter(pk=call["id"]).update(
        cost_minor=F("cost_minor") - 3, advisor_minor=F("advisor_minor") - 3
    )
    assert findings({call["id"]: 61.0}) == [
        f"call {call['id']}: 61 s of talk cost 203 but 200 was charged"
    ]
    Call.objects.filter(pk=call["id"]).update(
        cost_minor=F("cost_minor") + 3, advisor_minor=F("advisor_minor") + 3
    )

    # Another caller's call left running when the mix stopped.
    other = make_caller("sam@example.test")
    orion = make_advisor("orion@example.test")
    open_call = services.call_request(caller=other, advisor_id=orion.pk)
    assert findings({call["id"]: 61.0}) == [f"call {open_call.pk} is still ringing"]


@pytest.mark.django_db
def test_a_negative_wallet_is_found(world):
    """Written past the services (as a bug would): the entries, not the cached balance, say
    what the wallet holds."""
    posting = LedgerTransaction.objects.create(
        idempotency_key="overdraw", kind="test", description="a bug's posting"
    )
    wallet = account_for(kind=AccountKind.WALLET, owner_id=world.caller.pk)
    LedgerEntry.objects.bulk_create(  # balanced, so the ledger's own trigger lets it in
        [
            LedgerEntry(transaction=posting, account=wallet, amount_minor=-999_999),
            LedgerEntry(
                transaction=posting,
                account=account_for(kind=AccountKind.PROMO),
                amount_minor=999_999,
            ),
        ]
    )
    found = checks.books_findings(
        licensee=world.licensee,
        since=timezone.now(),
        callers_domain="example.test",
        driven_talk={},
    )
    assert any(f.startswith(f"wallet of user {world.caller.pk} is negative") for f in found)
    assert any(f.startswith(f"ledger: account {wallet.pk} (wallet) caches") for f in found)


def test_locust_loads_the_mix_the_checks_judge(tmp_path):
    people = tmp_path / "people.json"
    people.write_text(
        json.dumps(
            {
                "pairs": [{"caller_email": "c@x", "advisor_email": "a@x", "advisor_id": 1}],
                "password": "p",
                "owner_email": "o@x",
                "owner_password": "p",
            }
        )
    )
    env = {
        **os.environ,
        "LOADTEST_PEOPLE": str(people),
        "LOADTEST_HOST": "aurora.localhost",
        "LOADTEST_TALK_LOG": str(tmp_path / "talk.jsonl"),
    }
    listed = subprocess.run(
        [sys.executable, "-m", "locust", "--locustfile", str(LOCUSTFILE), "--list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert {"Visitor", "Caller", "Owner"} <= set(listed.stdout.split())
