from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django_tenants.utils import schema_context

PASSWORD = "Velvet-Compass-2031"
# Hashed once per run: each bcrypt at cost 12 takes about a quarter of a second.
_HASHES: dict[str, str] = {}


def password_hash(password: str = PASSWORD) -> str:
    if password not in _HASHES:
        _HASHES[password] = make_password(password)
    return _HASHES[password]


@pytest.fixture
def make_user():
    def make(schema: str, email: str, role: str = "end_user", password: str = PASSWORD, **extra):
        with schema_context(schema):
            return get_user_model().objects.create(
                email=email,
                role=role,
                password=password_hash(password),
                display_name=extra.pop("display_name", email.split("@")[0]),
                **extra,
            )

    return make


@pytest.fixture
def api(host_client):
    """A JSON client for one host: api("alpha").post("/api/v1/…", {...})."""

    class Api:
        def __init__(self, slug: str | None):
            self.client = host_client(f"{slug}.localhost" if slug else "localhost")

        def get(self, path, token=None, **params):
            return self.client.get(path, params, **_auth(token))

        def post(self, path, body=None, token=None):
            return self.client.post(
                path, body or {}, content_type="application/json", **_auth(token)
            )

        def patch(self, path, body, token=None):
            return self.client.patch(path, body, content_type="application/json", **_auth(token))

    return Api


def _auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
