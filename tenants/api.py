"""Health endpoints: one per licensee host, one for Callrix itself on the public host."""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from ninja import Router, Schema, Status

from tenants.health import database_answers, redis_answers

licensee_router = Router(tags=["platform"])
platform_router = Router(tags=["platform"])


class LicenseeHealthOut(Schema):
    licensee: str
    name: str
    status: str
    # Whether Redis answers now (asked, with the cache's 1-2 s socket timeouts): the host keeps
    # serving without it, routing from the database, so this stays a 200.
    redis: bool


class PlatformHealthOut(Schema):
    status: str
    database: bool
    redis: bool


class PlatformDegradedOut(PlatformHealthOut):
    """503: the error contract, and which part does not answer."""

    detail: str
    code: str
    field: str | None = None


@licensee_router.get("/health", response=LicenseeHealthOut, auth=None)
def licensee_health(request):
    tenant = request.tenant
    return {
        "licensee": tenant.slug,
        "name": tenant.display_name,
        "status": tenant.status,
        "redis": redis_answers(cache),
    }


@platform_router.get(
    "/health", response={200: PlatformHealthOut, 503: PlatformDegradedOut}, auth=None
)
def platform_health(request):
    database, redis = database_answers(connection), redis_answers(cache)
    healthy = database and redis
    body: dict[str, object] = {
        "status": "ok" if healthy else "degraded",
        "database": database,
        "redis": redis,
    }
    if healthy:
        return Status(200, body)
    down = " and ".join(part for part, up in (("database", database), ("Redis", redis)) if not up)
    detail = f"Degraded: the {down} does not answer." if down else "Degraded."
    return Status(503, body | {"detail": detail, "code": "unavailable", "field": None})
