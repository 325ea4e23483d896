"""Sample data for `callrix demo`: the licensee Aurora Psychics and people to log in as."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from tenants import selectors, services

DEMO_SLUG = "aurora"
DEMO_NAME = "Aurora Psychics"
DEMO_PASSWORD = "aurora-demo-2026"
STAFF_EMAIL = "staff@callrix.test"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    where: str


DEMO_PEOPLE = [
    ("owner", "owner@aurora.test", "Aurora Owner"),
    ("admin", "admin@aurora.test", "Aurora Admin"),
    ("end_user", "caller@aurora.test", "Casey Caller"),
    ("end_user", "sam@aurora.test", "Sam Seeker"),
]


def demo_ensure() -> list[DemoLogin]:
    """Provision the demo licensee and its people if missing; safe to run on every start."""
    User = get_user_model()
    licensee = selectors.licensee_get_by_slug(slug=DEMO_SLUG)
    if licensee is None:
        licensee = services.licensee_provision(
            slug=DEMO_SLUG,
            display_name=DEMO_NAME,
            owner_email=DEMO_PEOPLE[0][1],
            owner_password=DEMO_PASSWORD,
            status="active",
        ).licensee
    with schema_context(licensee.schema_name):
        for role, email, name in DEMO_PEOPLE:
            if not User.objects.filter(email=email).exists():
                User.objects.create_user(email, DEMO_PASSWORD, role=role, display_name=name)
    with schema_context("public"):
        if not User.objects.filter(email=STAFF_EMAIL).exists():
            User.objects.create_superuser(STAFF_EMAIL, DEMO_PASSWORD, display_name="Callrix Staff")
    logins = [DemoLogin(role, email, DEMO_PASSWORD, DEMO_SLUG) for role, email, _ in DEMO_PEOPLE]
    logins.append(DemoLogin("staff", STAFF_EMAIL, DEMO_PASSWORD, "public"))
    return logins
