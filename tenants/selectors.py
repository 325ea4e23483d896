from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet
from django_tenants.utils import schema_context

from tenants.models import Domain, Licensee, SpareSchema


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
