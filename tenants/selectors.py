from __future__ import annotations

from typing import cast

from django.conf import settings
from django.db.models import Count, QuerySet
from django_tenants.utils import schema_context

from kernel.tenant_connection import connection
from tenants.models import Domain, Licensee, SpareSchema


def licensee_current() -> Licensee:
    """The licensee whose schema the connection is on, as the tenant middleware or
    `tenant_context` put it there. For a licensee's requests and jobs only: after a bare
    `schema_context` the connection holds a stand-in that has no licensee's fields."""
    return cast(Licensee, connection.tenant)


def licensee_get_by_schema(*, schema_name: str) -> Licensee | None:
    with schema_context("public"):
        return Licensee.objects.filter(schema_name=schema_name).first()


def licensee_get_by_slug(*, slug: str) -> Licensee | None:
    with schema_context("public"):
        return Licensee.objects.filter(slug=slug).first()


def licensee_list() -> QuerySet[Licensee]:
    return Licensee.objects.order_by("slug")


def licensee_primary_host(*, licensee: Licensee) -> str:
    domain = (
        Domain.objects.filter(tenant=licensee)
        .order_by("-is_primary", "id")
        .values_list("domain", flat=True)
        .first()
    )
    return domain or ""


def schema_exists(*, schema_name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema_name])
        return cursor.fetchone() is not None


def spare_schema_count() -> int:
    with schema_context("public"):
        return SpareSchema.objects.count()


def tenant_schema_names() -> list[str]:
    """Every schema that holds tenant tables: licensees' and the spare pool's."""
    with schema_context("public"):
        licensees = list(Licensee.objects.values_list("schema_name", flat=True))
        spares = list(SpareSchema.objects.values_list("schema_name", flat=True))
    return licensees + spares


def custom_domains_verified() -> list[Domain]:
    """Licensees' own domains that DNS proved, not the `{slug}.{BASE_DOMAIN}` ones (the
    wildcard certificate covers those), in a stable order."""
    base = settings.BASE_DOMAIN.lower()
    with schema_context("public"):
        return list(
            Domain.objects.filter(verified_at__isnull=False)
            .exclude(domain=base)
            .exclude(domain__endswith=f".{base}")
            .order_by("domain")
        )


def licensee_counts_by_status() -> dict[str, int]:
    with schema_context("public"):
        rows = Licensee.objects.values_list("status").annotate(n=Count("id"))
        return dict(rows)


def custom_domain_counts() -> dict[str, int]:
    """Custom domains (primary ones left out) by whether DNS proved them yet."""
    with schema_context("public"):
        custom = Domain.objects.filter(is_primary=False)
        verified = custom.filter(verified_at__isnull=False).count()
        return {"verified": verified, "unverified": custom.count() - verified}


def licensee_list_serving() -> QuerySet[Licensee]:
    """Licensees still under contract (every status but terminated)."""
    return Licensee.objects.exclude(status=Licensee.Status.TERMINATED)
