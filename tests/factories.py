"""Factories for tests: real services, real schemas."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, transaction
from django_tenants.utils import schema_context

from tenants import schemas, services
from tenants.models import Domain, Licensee


def licensee_make(*, slug: str, name: str, owner_email: str | None = None, **extra) -> Licensee:
    result = services.licensee_provision(
        slug=slug, display_name=name, owner_email=owner_email or f"owner@{slug}.test", **extra
    )
    return result.licensee


def licensee_destroy(licensee: Licensee) -> None:
    with schema_context("public"), transaction.atomic():
        Domain.objects.filter(tenant_id=licensee.pk).delete()
        Licensee.objects.filter(pk=licensee.pk).delete()
        schemas.schema_drop(licensee.schema_name)


PASSWORD = "Velvet-Compass-2031"
# Hashed once per run: each bcrypt at cost 12 takes about a quarter of a second.
_HASHES: dict[str, str] = {}


def password_hash(password: str = PASSWORD) -> str:
    from django.contrib.auth.hashers import make_password

    if password not in _HASHES:
        _HASHES[password] = make_password(password)
    return _HASHES[password]


def worker_stop(worker) -> None:
    """Stop an in-process dramatiq Worker and take its middleware off the broker: dramatiq
    leaves it there, and a queue declared later would then get a consumer feeding the
    stopped worker, whose messages nobody processes."""
    worker.stop()
    broker = worker.broker
    broker.middleware[:] = [
        m for m in broker.middleware if getattr(m, "worker", None) is not worker
    ]


@contextmanager
def stripe_posts_watched(sandbox) -> Iterator[list[tuple[str, int]]]:
    """Every POST the Stripe sandbox answers while the block runs, as (path, transactions
    the test's connection holds beyond the test's own at that moment). The sandbox answers on
    its own thread while our code waits for it, so 0 proves the call ran outside any
    transaction and row lock."""
    ours = connections["default"]
    baseline = len(ours.atomic_blocks)  # the test's own transaction
    original = sandbox._dispatch
    seen: list[tuple[str, int]] = []

    def watched(call):
        if call.method == "POST":
            seen.append((call.path, len(ours.atomic_blocks) - baseline))
        return original(call)

    sandbox._dispatch = watched
    try:
        yield seen
    finally:
        del sandbox._dispatch
