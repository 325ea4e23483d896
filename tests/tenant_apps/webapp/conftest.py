from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tests.tenant_apps.calls.conftest import clock, world

__all__ = ["client_for", "clock", "signed_in", "world"]


def client_for(slug: str, user, *, csrf: bool = False) -> Client:
    """A browser-like client with that user's session on the licensee's host (opened there,
    as the sign-in page does)."""
    from tenants.models import Licensee

    client = Client(HTTP_HOST=f"{slug}.localhost", enforce_csrf_checks=csrf)
    licensee = Licensee.objects.get(schema_name=slug)
    with schema_context(slug):
        connection.tenant = licensee
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    connection.set_schema_to_public()
    return client


@pytest.fixture
def signed_in():
    """signed_in("alpha", user, csrf=False): see client_for."""
    return client_for
