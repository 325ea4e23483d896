"""What a load run must leave behind, and the figures it prints: Locust's per-endpoint
statistics (its CSV) and the licensee's books after the run (no negative wallet, every call
the mix made ended, settled and billed for its talk, every paid top-up credited, the ledger's
invariants)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db.models import Sum
from django_tenants.utils import tenant_context

from tenant_apps.calls import talk
from tenant_apps.calls.models import Call
from tenant_apps.payments.models import TopUp
from tenant_apps.wallets.models import AccountKind, LedgerAccount, LedgerTransaction
from tenant_apps.wallets.selectors import ledger_verify

# LiveKit stamps its events in whole seconds and the driver measures from its side of the
# wire: the talk it drove and the talk billed may differ by this much.
TALK_TOLERANCE_SECONDS = 2


@dataclass(frozen=True)
class EndpointFigures:
    method: str
    name: str
    requests: int
    failures: int
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def stats_read(path: Path) -> tuple[list[EndpointFigures], EndpointFigures]:
    """Locust's `<prefix>_stats.csv`: one row per endpoint, then the `Aggregated` row."""
    rows = []
    total = None
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            figures = EndpointFigures(
                method=row["Type"],
                name=row["Name"],
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                per_second=float(row["Requests/s"]),
                p50_ms=_milliseconds(row["50%"]),
                p95_ms=_milliseconds(row["95%"]),
                p99_ms=_milliseconds(row["99%"]),
            )
            if row["Name"] == "Aggregated":
                total = figures
            else:
                rows.append(figures)
    if total is None:
        raise ValueError(f"{path} has no Aggregated row: not a Locust statistics file")
    return rows, total


def _milliseconds(value: str) -> float:
    return 0.0 if value in ("", "N/A") else float(value)


def stats_findings(rows: list[EndpointFigures], total: EndpointFigures) -> list[str]:
    """A load run is clean only with requests made and none failed."""
    findings = [
        f"{row.failures} of {row.requests} {row.method} {row.name} failed"
        for row in rows
        if row.failures
    ]
    if total.requests == 0:
        findings.append("no request was made")
    return findings


def stats_table(rows: list[EndpointFigures], total: EndpointFigures) -> list[str]:
    lines = [
        f"{'endpoint':<52} {'reqs':>6} {'fail':>5} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}"
    ]
    for row in [*sorted(rows, key=lambda r: (r.name, r.method)), total]:
        label = row.name if row is total else f"{row.method} {row.name}"
        lines.append(
            f"{label[:52]:<52} {row.requests:>6} {row.failures:>5} {row.per_second:>7.1f} "
            f"{row.p50_ms:>6.0f} {row.p95_ms:>6.0f} {row.p99_ms:>6.0f}"
        )
    return lines


def books_findings(
    *, licensee, since: datetime, callers_domain: str, driven_talk: dict[int, float]
) -> list[str]:
    """Everything wrong with the licensee's books after a run: `since` and `callers_domain`
    pick the calls and top-ups the run made; `driven_talk` is the talk in seconds the driver
    held each call's room for (by call id)."""
    findings: list[str] = []
    with tenant_context(licensee):
        negative = (
            LedgerAccount.objects.filter(kind=AccountKind.WALLET)
            .annotate(total=Sum("entries__amount_minor"))
            .filter(total__lt=0)
        )
        findings += [
            f"wallet of user {account.owner_id} is negative: {account.total}"
            for account in negative
        ]
        calls = Call.objects.filter(
            created_at__gte=since, caller__email__endswith=f"@{callers_domain}"
        )
        seen = set()
        for call in calls:
            seen.add(call.pk)
            findings += _call_findings(call, driven_talk.get(call.pk))
        findings += [
            f"call {call_id} was driven but is not in the books"
            for call_id in sorted(set(driven_talk) - seen)
        ]
        unpaid = TopUp.objects.filter(
            created_at__gte=since,
            user__email__endswith=f"@{callers_domain}",
            status=TopUp.Status.PENDING,
        )
        findings += [f"top-up {topup.pk} was paid but never credited" for topup in unpaid]
        findings += [f"ledger: {breach}" for breach in ledger_verify()]
    return findings


def _call_findings(call: Call, driven: float | None) -> list[str]:
    if call.status in (Call.Status.RINGING, Call.Status.CONNECTED):
        return [f"call {call.pk} is still {call.status}"]
    if call.status != Call.Status.COMPLETED:
        return []  # missed, declined or cancelled: nothing was held to settle
    if call.settled_at is None:
        return [f"call {call.pk} ended but was never settled"]
    findings = []
    owed = talk.cost_for(call, call.talk_seconds)
    if call.cost_minor != owed:
        findings.append(
            f"call {call.pk}: {call.talk_seconds} s of talk cost {owed} but {call.cost_minor} "
            "was charged"
        )
    if not LedgerTransaction.objects.filter(idempotency_key=f"call:{call.pk}:settle").exists():
        findings.append(f"call {call.pk} has no settlement in the ledger")
    if driven is not None and abs(call.talk_seconds - driven) > TALK_TOLERANCE_SECONDS:
        findings.append(
            f"call {call.pk}: talked {driven:.1f} s but {call.talk_seconds} s were billed"
        )
    return findings
