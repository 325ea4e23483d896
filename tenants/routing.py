"""Host -> licensee resolution, cached in process and in Redis (`kernel.generational_cache`).

A warm request is answered from a per-process dict without touching the database or Redis.
Every process re-reads one Redis generation counter at most once per
`GENERATION_CHECK_SECONDS`; any change to a licensee or domain bumps it (`tenants.signals`).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django_tenants.utils import get_public_schema_name, schema_context

from kernel.generational_cache import GenerationalCache

GENERATION_CHECK_SECONDS = 1.0
UNKNOWN_HOST_SECONDS = 30  # negative entries expire sooner: a domain may be added any time
UNKNOWN_HOST_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class HostTarget:
    """Where a host leads: the public site (licensee is None) or one licensee."""

    licensee_id: int | None
    schema_name: str
    slug: str = ""
    display_name: str = ""
    status: str = ""
    currency: str = ""
    # An internal host (Traefik's and Prometheus' way in): `callrix.urls_internal` only.
    internal: bool = False

    @property
    def is_public(self) -> bool:
        return self.licensee_id is None and not self.internal


PUBLIC = HostTarget(licensee_id=None, schema_name="public")
INTERNAL = HostTarget(licensee_id=None, schema_name="public", internal=True)


# A host name: dot-separated labels of letters, digits and hyphens. Anything else (`_`, `%`,
# control characters) is nobody's and costs no query.
_HOST_NAME = re.compile(
    r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
)

_hosts: GenerationalCache[HostTarget | None] = GenerationalCache(
    "tenants:hosts",
    check_seconds=GENERATION_CHECK_SECONDS,
    # Unknown hosts: each process keeps at most this many, each for UNKNOWN_HOST_SECONDS.
    miss_limit=UNKNOWN_HOST_CACHE_SIZE,
    miss_seconds=UNKNOWN_HOST_SECONDS,
)


@functools.cache
def public_hosts() -> frozenset[str]:
    """Read from settings once (it is on every request's path), again when they change."""
    base = settings.BASE_DOMAIN.lower()
    extra = {h.strip().lower() for h in getattr(settings, "PUBLIC_EXTRA_HOSTS", []) if h.strip()}
    return frozenset({base, f"www.{base}"} | extra)


@functools.cache
def internal_hosts() -> frozenset[str]:
    return frozenset(
        h.strip().lower() for h in getattr(settings, "INTERNAL_HOSTS", []) if h.strip()
    )


@receiver(setting_changed)
def _public_hosts_changed(*, setting: str, **kwargs) -> None:
    if setting in ("BASE_DOMAIN", "PUBLIC_EXTRA_HOSTS"):
        public_hosts.cache_clear()
    if setting == "INTERNAL_HOSTS":
        internal_hosts.cache_clear()


def _load_from_database(host: str) -> HostTarget | None:
    from tenants.models import Domain

    with schema_context(get_public_schema_name()):  # the connection may be on the last licensee
        row = (
            # A custom domain serves only once DNS proved it (tenants.domains).
            Domain.objects.filter(domain=host, verified_at__isnull=False)
            .values(
                "tenant_id",
                "tenant__schema_name",
                "tenant__slug",
                "tenant__display_name",
                "tenant__status",
                "tenant__currency",
            )
            .first()
        )
    if row is None:
        return None
    return HostTarget(
        licensee_id=row["tenant_id"],
        schema_name=row["tenant__schema_name"],
        slug=row["tenant__slug"],
        display_name=row["tenant__display_name"],
        status=row["tenant__status"],
        currency=row["tenant__currency"],
    )


def resolve_host(host: str) -> HostTarget | None:
    """The target for a request host (port already stripped), or None when nobody serves it."""
    host = host.lower().rstrip(".")
    if host in public_hosts():
        return PUBLIC
    if host in internal_hosts():
        return INTERNAL
    if not _HOST_NAME.fullmatch(host):
        return None
    return _hosts.get(
        host,
        lambda: _load_from_database(host),
        dump=lambda target: json.dumps(target.__dict__) if target else "",
        restore=lambda stored: HostTarget(**json.loads(stored)) if stored else None,
        timeout_for=lambda target: settings.HOST_CACHE_SECONDS if target else UNKNOWN_HOST_SECONDS,
        is_miss=lambda target: target is None,
    )


def invalidate_hosts() -> None:
    """Forget every cached host target: in Redis and in this process at once, and in every
    other process at its next generation check."""
    _hosts.invalidate()
