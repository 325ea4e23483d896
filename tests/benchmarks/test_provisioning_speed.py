"""Provisioning speed (docs/decisions/0001-warm-schema-pool.md): licensees per second by the
warm pool (`ALTER SCHEMA … RENAME`) against django-tenants' two stock ways, measured in the
same run:

- migrate-on-create: `TenantMixin.create_schema()` runs `CREATE SCHEMA` + every tenant migration;
- `TENANT_BASE_SCHEMA`: the same method clones a template with `clone_schema()` and then runs
  `migrate_schemas --fake` on the copy, as django-tenants does after cloning.

Every path makes the same licensee: row, primary domain and owner (no password, so no bcrypt;
the pool path also signs the owner's one-time link, as every sign-up does).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants import addresses, provisioning, schemas, services
from tenants.models import Domain, Licensee, SpareSchema
from tests.factories import licensee_destroy

PER_PATH = 5
TEMPLATE_SCHEMA = "bench_template"


def _provision_from_pool(slug: str) -> Licensee:
    return services.licensee_provision(
        slug=slug, display_name=f"Bench {slug}", owner_email=f"owner@{slug}.test"
    ).licensee


def _provision_stock(slug: str) -> Licensee:
    """A django-tenants sign-up: save the tenant, build its schema as `TenantMixin.save()` does
    (our model turns `auto_create_schema` off, so we call the same method), add domain and
    owner."""
    schema_name = slug.replace("-", "_")
    with schema_context("public"):
        licensee = Licensee.objects.create(
            schema_name=schema_name, slug=slug, display_name=f"Bench {slug}"
        )
        licensee.create_schema(check_if_exists=True, verbosity=0)
        Domain.objects.create(
            domain=addresses.licensee_host(slug), tenant=licensee, verified_at=timezone.now()
        )
        with schema_context(schema_name):
            get_user_model().objects.create_user(
                f"owner@{slug}.test", None, role="owner", display_name=licensee.display_name
            )
    return licensee


# name -> (slug prefix, settings in force, provisioning function)
PATHS: dict[str, tuple[str, Callable[[], contextlib.AbstractContextManager], Callable]] = {
    "pool (ALTER SCHEMA RENAME)": ("bpool", contextlib.nullcontext, _provision_from_pool),
    "django-tenants migrate-on-create": ("bmigr", contextlib.nullcontext, _provision_stock),
    "django-tenants TENANT_BASE_SCHEMA clone": (
        "bclone",
        lambda: override_settings(
            TENANT_CREATION_FAKES_MIGRATIONS=True, TENANT_BASE_SCHEMA=TEMPLATE_SCHEMA
        ),
        _provision_stock,
    ),
}


def test_provisioning_speed(committed):
    made: list[Licensee] = []
    elapsed = dict.fromkeys(PATHS, 0.0)
    try:
        # Untimed set-up: the clone template, and a spare for every pool licensee (warm-up too).
        schemas.schema_create(TEMPLATE_SCHEMA)
        schemas.schema_migrate(TEMPLATE_SCHEMA)
        provisioning.spare_pool_refill(size=1 + PER_PATH)
        spares_before = SpareSchema.objects.count()

        # Round 0 warms imports, caches and connections and is not timed. The rest are
        # interleaved, rotating which path goes first, so drift hits every path alike.
        names = list(PATHS)
        for round_no in range(1 + PER_PATH):
            shift = round_no % len(names)
            for name in names[shift:] + names[:shift]:
                prefix, settings_in_force, provision = PATHS[name]
                with settings_in_force():
                    connection.ensure_connection()  # a reconnect is never charged to a path
                    start = time.perf_counter()
                    made.append(provision(f"{prefix}-{round_no}"))
                    if round_no:
                        elapsed[name] += time.perf_counter() - start

        # Each pool licensee took a spare; none had to be built inline (refill never ran).
        assert SpareSchema.objects.count() == spares_before - (1 + PER_PATH)
        for licensee in made:
            assert schemas.schema_is_current(licensee.schema_name), licensee.slug
            host = addresses.licensee_host(licensee.slug)
            response = Client(HTTP_HOST=host).get("/api/v1/health")
            assert response.status_code == 200, (licensee.slug, response.content)
            assert response.json()["licensee"] == licensee.slug
    finally:
        # By slug, so a path that failed half-way is cleaned up too.
        prefixes = "|".join(prefix for prefix, _, _ in PATHS.values())
        with schema_context("public"):
            for licensee in Licensee.objects.filter(slug__regex=rf"^({prefixes})-"):
                licensee_destroy(licensee)
            schemas.schema_drop(TEMPLATE_SCHEMA)

    rates = {name: PER_PATH / seconds for name, seconds in elapsed.items()}
    pool, migrate, clone = (rates[name] for name in PATHS)
    print(
        f"\nProvisioning, {PER_PATH} timed licensees per path, interleaved, after one untimed "
        f"warm-up each (pool filled to {1 + PER_PATH} spares before timing; refill not timed):"
    )
    for name, rate in rates.items():
        print(f"  {name:<42} {rate:8.2f} licensees/s  ({1000 / rate:7.1f} ms each)")
    print(f"  pool / migrate-on-create = {pool / migrate:.1f}x")
    print(f"  pool / TENANT_BASE_SCHEMA clone = {pool / clone:.1f}x")
