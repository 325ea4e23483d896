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
from tenants.routing import HostTarget, resolve_host

if TYPE_CHECKING:
    from kernel.tenant_connection import TenantDatabaseWrapper

# Provider webhooks keep flowing to a suspended licensee: money already moving must settle.
_PATHS_SERVED_WHILE_SUSPENDED = ("/webhooks/",)


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

    def _licensee_for(self, target: HostTarget) -> Licensee:
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
        return licensee

    def __call__(self, request: TenantRequest) -> HttpResponse:
        try:
            host = request_host(request)
        except DisallowedHost:  # not even a host name (e.g. `pg_catalog.localhost`)
            host = ""
        target = resolve_host(host) if host and not host.startswith("[") else None
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

        refusal = self._refusal(request, target)
        if refusal is not None:
            connection.set_schema_to_public()
            return refusal
        request.tenant = licensee = self._licensee_for(target)
        # Django's handler has already made ROOT_URLCONF this thread's urlconf.
        request.urlconf = settings.ROOT_URLCONF
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
