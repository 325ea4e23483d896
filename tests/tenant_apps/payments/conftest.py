from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from identity.models import User
from tenant_apps.payments import services
from tests.factories import PASSWORD, password_hash


def connect_to_sandbox(sandbox, licensee, admin=None) -> dict:
    """Give the licensee its own sandbox Stripe account and connect it through the service."""
    creds = sandbox.create_account(display_name=licensee.display_name)
    with schema_context(licensee.schema_name):
        connection.tenant = licensee
        admin = admin or User.objects.get(role="owner")
        services.stripe_connect(
            secret_key=creds["secret_key"],
            publishable_key=creds["publishable_key"],
            webhook_secret=creds["webhook_secret"],
            connect_webhook_secret=creds["connect_webhook_secret"],
            admin=admin,
        )
    return creds


@pytest.fixture
def alpha_stripe(stripe, alpha):
    return connect_to_sandbox(stripe, alpha)


@pytest.fixture
def people(alpha):
    """An end user and an admin at alpha, with tokens."""
    with schema_context("alpha"):
        caller = User.objects.create(
            email="caller@example.test",
            role="end_user",
            password=password_hash(),
            display_name="Caller",
        )
        admin = User.objects.create(
            email="admin@example.test", role="admin", password=password_hash(), display_name="Admin"
        )
    return {"caller": caller, "admin": admin}


@pytest.fixture
def tokens(api, people):
    def token(email: str, slug: str = "alpha") -> str:
        response = api(slug).post("/api/v1/auth/token", {"email": email, "password": PASSWORD})
        return response.json()["access"]

    return {"caller": token("caller@example.test"), "admin": token("admin@example.test")}


@pytest.fixture
def in_alpha(alpha):
    with schema_context("alpha"):
        connection.tenant = alpha
        yield alpha
