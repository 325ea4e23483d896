"""Health endpoints: one per licensee host, one for Callrix itself on the public host."""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from ninja import Router, Schema, Status

from tenants.health import database_answers, redis_answers
from tenants.routing import routing_redis_answers

licensee_router = Router(tags=["platform"])
platform_router = Router(tags=["platform"])


class LicenseeHealthOut(Schema):
    licensee: str
    name: str
    status: str
    # Whether this process reaches Redis (as routing last found it, within a second or two):
    # the host keeps serving without it, routing from the database. The platform health
    # (`/api/platform/v1/health`) asks the database and Redis themselves.
    redis: bool


class PlatformHealthOut(Schema):
    status: str
    database: bool
    redis: bool


@licensee_router.get("/health", response=LicenseeHealthOut, auth=None)
def licensee_health(request):
    tenant = request.tenant
    return {
        "licensee": tenant.slug,
        "name": tenant.display_name,
        "status": tenant.status,
        "redis": routing_redis_answers(),
    }


@platform_router.get(
    "/health", response={200: PlatformHealthOut, 503: PlatformHealthOut}, auth=None
)
def platform_health(request):
    database, redis = database_answers(connection), redis_answers(cache)
    healthy = database and redis
    body = {"status": "ok" if healthy else "degraded", "database": database, "redis": redis}
    return Status(200 if healthy else 503, body)
