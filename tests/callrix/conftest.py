"""People of every role at alpha, with access tokens issued straight from identity.tokens
(no bcrypt sign-in per test), for the hostile-input regression tests."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from identity.tokens import token_pair_issue


@pytest.fixture
def people(alpha, make_user):
    """{"end_user": (user, token), "advisor": …, "owner": …} at alpha (an advisor profile
    included)."""
    from tenant_apps.advisors.models import Advisor

    made = {}
    with schema_context("alpha"):
        for role in ("end_user", "advisor", "owner"):
            user = make_user("alpha", f"hostile-{role}@alpha.test", role=role)
            if role == "advisor":
                Advisor.objects.create(user=user, display_name="Hostile", rate_minor_per_minute=100)
            made[role] = (user, token_pair_issue(user=user).access)
    return made
