"""Provisioning licensees from a warm pool of spare schemas
(docs/decisions/0001-warm-schema-pool.md).

Migrating a new schema takes hundreds of milliseconds; renaming a spare that is already fully
migrated takes about one. So we keep `SPARE_SCHEMA_POOL_SIZE` spares ready (refilled by a job,
migrated by `callrix migrate` with every other schema) and provision by `ALTER SCHEMA … RENAME`.
When the pool is empty we build a spare on the spot and claim it the same way.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import connection, transaction
from django_tenants.utils import schema_context

from tenants import schema_template, schemas
from tenants.models import SpareSchema


def spare_build() -> str:
    """Create one fully migrated spare schema, then add it to the pool — all or nothing
    (PostgreSQL DDL is transactional; nested in a caller's transaction this is a savepoint).
    It is the process's template replayed when there is one (`tenants.schema_template`,
    made here on the first build outside a transaction), else migrated."""
    schema_name = f"spare_{secrets.token_hex(6)}"
    schema_template.template_prepare()
    with schema_context("public"), transaction.atomic():
        if not schema_template.schema_create_from_template(schema_name):
            schemas.schema_create(schema_name)
            schemas.schema_migrate(schema_name)
        SpareSchema.objects.create(schema_name=schema_name)
    return schema_name


def spare_claim() -> str | None:
    """Take one spare out of the pool (inside the caller's transaction) or None if empty.

    SKIP LOCKED lets concurrent sign-ups take different spares instead of queueing."""
    spare = SpareSchema.objects.select_for_update(skip_locked=True).order_by("created_at").first()
    if spare is None:
        return None
    name = spare.schema_name
    spare.delete()
    return name


def spare_pool_refill(*, size: int | None = None) -> int:
    """Build spares until the pool holds `size`; returns how many were built."""
    target = settings.SPARE_SCHEMA_POOL_SIZE if size is None else size
    built = 0
    with schema_context("public"):
        while SpareSchema.objects.count() < target:
            spare_build()
            built += 1
    return built


def spare_pool_drain() -> int:
    """Drop every spare (used when the tenant apps' migrations cannot be applied in place)."""
    dropped = 0
    with schema_context("public"):
        for name in list(SpareSchema.objects.values_list("schema_name", flat=True)):
            with transaction.atomic():
                SpareSchema.objects.filter(schema_name=name).delete()
                schemas.schema_drop(name)
            dropped += 1
    return dropped


def schema_take_for(schema_name: str) -> None:
    """Make `schema_name` a ready tenant schema inside the caller's transaction."""
    assert connection.in_atomic_block, "provisioning must run inside one transaction"
    spare = spare_claim()
    if spare is None:
        # Pool empty: build one inside this transaction, invisible to anyone else until
        # commit, so the claim cannot be raced.
        spare_build()
        spare = spare_claim()
        if spare is None:  # cannot be: the spare just built is visible to this transaction only
            raise RuntimeError("the spare schema built for this licensee could not be claimed")
    schemas.schema_rename(spare, schema_name)
