"""Routes each request to the public site or to one licensee's schema, by host."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import set_urlconf

from kernel.errors import error_body, is_api_path
from kernel.tenant_connection import connection
from tenants.models import Licensee
from tenants.request_host import request_host
from tenants.routing import HostTarget, resolve_host, routing_token

if TYPE_CHECKING:
    from kernel.tenant_connection import TenantDatabaseWrapper

# Provider webhooks keep flowing to a suspended licensee: money already moving must settle.
_PATHS_SERVED_WHILE_SUSPENDED = ("/webhooks/",)
_REFUSING_STATUSES = frozenset({Licensee.Status.TERMINATED, Licensee.Status.SUSPENDED})
# Distinct Host headers a worker remembers (licensees' hosts and custom domains); past it the
# memo starts again, so a flood of made-up hosts cannot grow it.
_ROUTED_CAPACITY = 10_000


class PublicSite:
    """Stands in for a licensee on the public host (django-tenants wants a `schema_name`)."""

    schema_name = "public"
    slug = ""
    display_name = "Callrix"
    status = "active"
    pk = None

    def get_tenant_type(self) -> str:
        return "public"


_PUBLIC_SITE = PublicSite()


class TenantRequest(HttpRequest):
    """A request past `LicenseeHostMiddleware`: `tenant` is the host's licensee, or the
    public site's stand-in. For annotations only; no request is one."""

    tenant: Licensee | PublicSite


def _error(request: HttpRequest, status: int, code: str, detail: str) -> HttpResponse:
    if is_api_path(request.path) or code == "unknown_host":  # nobody's brand to show
        return JsonResponse(error_body(detail, code=code), status=status)
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{t}</title></head>"
        "<body><main><h1>{t}</h1><p>{d}</p></main></body></html>"
    )
    title = {404: "Not found", 403: "Unavailable", 410: "Closed"}.get(status, "Error")
    return HttpResponse(page.format(t=title, d=detail), status=status)


class LicenseeHostMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._licensees: dict[HostTarget, Licensee] = {}
        self._last: tuple[HostTarget, Licensee] | None = None
        self._routed: dict[str, tuple[object, object, HostTarget]] = {}

    def _licensee_for(self, target: HostTarget) -> Licensee:
        # The routing cache hands out the same target object while nothing changed: an
        # identity check spares hashing its seven fields on every request.
        last = self._last
        if last is not None and last[0] is target:
            return last[1]
        licensee = self._licensees.get(target)
        if licensee is None:
            licensee = Licensee(
                id=target.licensee_id,
                schema_name=target.schema_name,
                slug=target.slug,
                display_name=target.display_name,
                status=target.status,
                currency=target.currency,
            )
            licensee._state.adding = False
            self._licensees[target] = licensee
        self._last = (target, licensee)
        return licensee

    def _target(self, request: HttpRequest) -> HostTarget | None:
        """Where the request's host leads. A worker serves the same few `Host` headers over
        and over: one already routed under the routing cache's current generation (and the
        same settings) is answered from this middleware's own memo, without validating,
        normalising and looking it up again."""
        meta = request.META
        raw: str = meta.get("HTTP_HOST") or ""
        token = routing_token() if raw and "HTTP_X_FORWARDED_HOST" not in meta else None
        if token is not None:
            known = self._routed.get(raw)
            if known is not None and known[0] is token[0] and known[1] is token[1]:
                return known[2]
        try:
            host = request_host(request)
        except DisallowedHost:  # not even a host name (e.g. `pg_catalog.localhost`)
            host = ""
        target = resolve_host(host) if host and not host.startswith("[") else None
        if token is not None and target is not None:
            if len(self._routed) >= _ROUTED_CAPACITY:
                self._routed.clear()
            self._routed[raw] = (token[0], token[1], target)
        return target

    def __call__(self, request: TenantRequest) -> HttpResponse:
        target = self._target(request)
        if target is None:
            connection.set_schema_to_public()
            return _error(request, 404, "unknown_host", "No platform is served at this address.")
        if target.licensee_id is None:  # the public site, or an internal host
            connection.set_schema_to_public()
            request.tenant = _PUBLIC_SITE
            request.urlconf = (
                settings.INTERNAL_URLCONF if target.internal else settings.PUBLIC_SCHEMA_URLCONF
            )
            set_urlconf(request.urlconf)
            return self.get_response(request)

        if target.status in _REFUSING_STATUSES:
            refusal = self._refusal(request, target)
            if refusal is not None:
                connection.set_schema_to_public()
                return refusal
        # No `request.urlconf`: Django's handler has already made ROOT_URLCONF this thread's
        # urlconf for the request, and resolves with it when the request names none.
        request.tenant = licensee = self._licensee_for(target)
        # The hot path: a connection still on this licensee from its last request keeps its
        # state (and its ContentType cache) instead of being reset twice per request.
        db = cast("TenantDatabaseWrapper", connections[DEFAULT_DB_ALIAS])
        if db.tenant is not licensee or not db.include_public_schema:
            db.set_tenant(licensee)
        return self.get_response(request)

    @staticmethod
    def _refusal(request: HttpRequest, target: HostTarget) -> HttpResponse | None:
        if target.status == Licensee.Status.TERMINATED:
            return _error(
                request,
                410,
                "licensee_terminated",
                f"{target.display_name} has closed this platform.",
            )
        if target.status == Licensee.Status.SUSPENDED and not request.path.startswith(
            _PATHS_SERVED_WHILE_SUSPENDED
        ):
            return _error(
                request,
                403,
                "licensee_suspended",
                f"{target.display_name} is temporarily unavailable. Please try again later.",
            )
        return None
