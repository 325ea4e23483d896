from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from tenants import schemas, selectors
from tenants.models import Licensee, SpareSchema

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_licensee_create_prints_host_and_one_time_link(host_client):
    output = _run(
        "licensee",
        "create",
        "--slug",
        "lambda",
        "--name",
        "Lambda Lights",
        "--owner-email",
        "owner@lambda.test",
    )
    assert "Created licensee lambda" in output
    assert "http://lambda.localhost" in output
    assert "/account/set-password/" in output
    response = host_client("lambda.localhost").get("/api/v1/health")
    assert response.json()["name"] == "Lambda Lights"


def test_licensee_create_with_password_prints_no_link():
    output = _run(
        "licensee",
        "create",
        "--slug",
        "mu-mu",
        "--name",
        "Mu",
        "--owner-email",
        "owner@mu.test",
        "--owner-password",
        "Quiet-Harbour-81",
    )
    assert "set-password" not in output


def test_licensee_create_refuses_a_reserved_slug_clearly():
    with pytest.raises(CommandError, match="reserved"):
        _run("licensee", "create", "--slug", "www", "--name", "W", "--owner-email", "o@w.test")
    assert not Licensee.objects.filter(slug="www").exists()


def test_licensee_list_suspend_and_reactivate(alpha, beta, host_client):
    listing = _run("licensee", "list")
    assert "alpha" in listing and "beta" in listing and "alpha.localhost" in listing
    _run("licensee", "suspend", "alpha")
    assert host_client("alpha.localhost").get("/api/v1/health").status_code == 403
    _run("licensee", "reactivate", "alpha")
    assert host_client("alpha.localhost").get("/api/v1/health").status_code == 200
    with pytest.raises(CommandError, match="No licensee"):
        _run("licensee", "suspend", "nobody")


def test_migrate_skips_current_schemas_and_migrates_a_stale_one(alpha, beta):
    output = _run("migrate", "--no-spares")
    assert "to migrate: 0" in output

    # A bare schema registered as a spare is behind: migrate brings it up to date.
    schemas.schema_create("spare_stale")
    SpareSchema.objects.create(schema_name="spare_stale")
    assert not schemas.schema_is_current("spare_stale")
    output = _run("migrate", "--no-spares")
    assert "to migrate: 1" in output
    assert schemas.schema_is_current("spare_stale")
    with schema_context("spare_stale"):
        from django.contrib.auth import get_user_model

        assert get_user_model().objects.count() == 0
    assert selectors.schema_exists(schema_name="spare_stale")
