"""Every signed-in operation of the licensee API, called on alpha's host with a token that
beta issued (for each of beta's roles), is refused as unauthenticated before it reads or
writes anything: a new endpoint cannot forget the licensee boundary.

The ids in the paths exist at alpha (each schema numbers its rows from 1), so an endpoint that
trusted a foreign token would answer 2xx here, not 404."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context

from identity.tokens import token_pair_issue

pytestmark = pytest.mark.django_db

ROLES = ("end_user", "advisor", "owner")


def _signed_in_operations() -> list[tuple[str, str]]:
    from callrix.urls_tenant import api

    document = api.get_openapi_schema(path_prefix="/api/v1/")
    operations = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if operation.get("security"):
                operations.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path)))
    return operations


@pytest.fixture
def beta_tokens(alpha, beta, make_user):
    from tenant_apps.advisors.models import Advisor

    tokens = {}
    for slug in ("alpha", "beta"):
        with schema_context(slug):
            for role in ROLES:
                user = make_user(slug, f"sweep-{role}@example.test", role=role)
                if role == "advisor":
                    Advisor.objects.create(
                        user=user, display_name="Sweep", rate_minor_per_minute=100
                    )
                if slug == "beta":
                    tokens[role] = token_pair_issue(user=user).access
    return tokens


def test_no_signed_in_operation_accepts_another_licensees_token(api, beta_tokens):
    operations = _signed_in_operations()
    assert len(operations) > 50  # the sweep reaches the whole API, not a corner of it
    client = api("alpha").client
    let_through = []
    for role, token in beta_tokens.items():
        for method, path in operations:
            response = client.generic(
                method,
                path,
                b"{}",
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
            body = response.json() if response.status_code == 401 else {}
            if response.status_code != 401 or not {"detail", "code", "field"} <= body.keys():
                let_through.append(f"{role} {method} {path}: {response.status_code}")
    assert let_through == []


def test_the_same_tokens_work_at_home(api, beta_tokens):
    """The refusal above is the licensee boundary, not broken tokens."""
    for token in beta_tokens.values():
        assert api("beta").get("/api/v1/me", token=token).status_code == 200
