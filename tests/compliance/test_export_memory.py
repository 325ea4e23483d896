"""An export streams: its peak memory does not grow with the tenant's size. Measured with
tracemalloc on the same tenant at 20k and then 200k ledger entries (behaviour, not timing)."""

from __future__ import annotations

import gc
import tracemalloc

from django.db import connection
from django_tenants.utils import tenant_context

from compliance.licensee import services
from compliance.licensee.models import TenantExport
from tenant_apps.wallets.models import AccountKind, LedgerAccount

SMALL, LARGE = 20_000, 200_000


def _add_balanced_entries(count: int, source: int, wallet: int) -> None:
    """`count` ledger entries in `count / 2` balanced two-leg transactions, by raw SQL (the
    balancing trigger checks them; entries and transactions can never be deleted, so this
    runs in a throwaway licensee whose schema is dropped afterwards)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM wallets_ledgertransaction")
        (before,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO wallets_ledgertransaction "
            "(idempotency_key, kind, description, metadata, created_at) "
            "SELECT 'bulk-' || g, 'promo', 'Bulk promotion ' || g, "
            "jsonb_build_object('batch', g), now() FROM generate_series(%s, %s) g",
            [before + 1, before + count // 2],
        )
        cursor.execute(
            "INSERT INTO wallets_ledgerentry "
            "(transaction_id, account_id, amount_minor, created_at) "
            "SELECT t.id, leg.account_id, leg.sign * (100 + t.id %% 900), now() "
            "FROM wallets_ledgertransaction t "
            "CROSS JOIN (VALUES (%s, -1), (%s, 1)) AS leg(account_id, sign) WHERE t.id > %s",
            [source, wallet, before],
        )


def _export_peak() -> tuple[TenantExport, int]:
    export = TenantExport.objects.create(requested_by_id=1)
    gc.collect()
    tracemalloc.start()
    try:
        export = services.tenant_export_run(export_id=export.pk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert export.status == "ready", export.error
    return export, peak


def test_export_memory_does_not_grow_with_the_number_of_rows(throwaway_licensee):
    licensee = throwaway_licensee("cmp-memory", "Memory Exports")
    with tenant_context(licensee):
        source = LedgerAccount.objects.create(kind=AccountKind.PROMO, currency="EUR")
        wallet = LedgerAccount.objects.create(kind=AccountKind.WALLET, owner_id=1, currency="EUR")
        _export_peak()  # warm-up: templates, imports and caches are loaded once

        _add_balanced_entries(SMALL, source.pk, wallet.pk)
        small, small_peak = _export_peak()
        _add_balanced_entries(LARGE - SMALL, source.pk, wallet.pk)
        large, large_peak = _export_peak()

    # Entries plus their transactions (half as many), beside a few hundred other rows.
    assert SMALL * 3 // 2 < small.row_count < SMALL * 3 // 2 + 1_000
    assert LARGE * 3 // 2 < large.row_count < LARGE * 3 // 2 + 1_000
    print(
        f"\nexport peak memory: {small.row_count} rows {small_peak / 1e6:.2f} MB, "
        f"{large.row_count} rows {large_peak / 1e6:.2f} MB "
        f"(ratio {large_peak / small_peak:.2f}); archives {small.size_bytes / 1e6:.1f} MB "
        f"and {large.size_bytes / 1e6:.1f} MB"
    )
    assert large_peak < 2 * small_peak
