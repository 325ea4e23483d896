"""Tenant-bound JWTs: issue, use, expire, rotate, revoke — and never cross a licensee."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def casey(alpha, make_user):
    return make_user("alpha", "casey@example.test")


def _pair(api, slug="alpha", email="casey@example.test", password=PASSWORD):
    response = api(slug).post("/api/v1/auth/token", {"email": email, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def test_token_pair_gives_access_to_me(api, casey):
    pair = _pair(api)
    me = api("alpha").get("/api/v1/me", token=pair["access"])
    assert me.status_code == 200
    assert me.json()["email"] == "casey@example.test"
    assert me.json()["role"] == "end_user"


def test_login_is_case_insensitive_on_the_email(api, casey):
    assert _pair(api, email="CASEY@Example.test")["access"]


def test_wrong_password_is_401_with_json(api, casey):
    response = api("alpha").post(
        "/api/v1/auth/token", {"email": "casey@example.test", "password": "nope-nope-nope"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_missing_field_is_422_naming_it(api, alpha):
    response = api("alpha").post("/api/v1/auth/token", {"email": "x@y.test"})
    assert response.status_code == 422
    assert response.json()["field"] == "password"


def test_access_token_is_refused_at_another_licensee_and_on_the_public_host(
    api, casey, beta, make_user
):
    # Same e-mail and id space at beta: only the schema claim tells the tokens apart.
    make_user("beta", "casey@example.test")
    pair = _pair(api)
    assert api("beta").get("/api/v1/me", token=pair["access"]).status_code == 401
    assert api(None).get("/api/platform/v1/me", token=pair["access"]).status_code == 401
    assert api("alpha").get("/api/v1/me", token=pair["access"]).status_code == 200


def test_refresh_token_is_refused_at_another_licensee(api, casey, beta):
    pair = _pair(api)
    response = api("beta").post("/api/v1/auth/token/refresh", {"refresh": pair["refresh"]})
    assert response.status_code == 401
    assert response.json()["field"] == "refresh"
    public = api(None).post("/api/platform/v1/auth/token/refresh", {"refresh": pair["refresh"]})
    assert public.status_code == 401
    # Refused elsewhere, still good at home.
    assert (
        api("alpha").post("/api/v1/auth/token/refresh", {"refresh": pair["refresh"]}).status_code
        == 200
    )


def test_public_host_tokens_are_refused_on_licensee_hosts(api, alpha, make_user):
    make_user("public", "staffer@callrix.test", role="staff", is_staff=True)
    pair = (
        api(None)
        .post(
            "/api/platform/v1/auth/token", {"email": "staffer@callrix.test", "password": PASSWORD}
        )
        .json()
    )
    assert api(None).get("/api/platform/v1/me", token=pair["access"]).status_code == 200
    assert api("alpha").get("/api/v1/me", token=pair["access"]).status_code == 401


def test_access_token_expires_after_15_minutes(api, casey):
    pair = _pair(api)
    with time_machine.travel(timezone.now() + timedelta(minutes=14), tick=False):
        assert api("alpha").get("/api/v1/me", token=pair["access"]).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        assert api("alpha").get("/api/v1/me", token=pair["access"]).status_code == 401
        refreshed = api("alpha").post("/api/v1/auth/token/refresh", {"refresh": pair["refresh"]})
        assert refreshed.status_code == 200


def test_refresh_token_expires(api, casey):
    pair = _pair(api)
    with time_machine.travel(timezone.now() + timedelta(days=15), tick=False):
        response = api("alpha").post("/api/v1/auth/token/refresh", {"refresh": pair["refresh"]})
    assert response.status_code == 401


def test_refresh_rotates_and_a_reused_refresh_token_is_rejected(api, casey):
    first = _pair(api)
    second = api("alpha").post("/api/v1/auth/token/refresh", {"refresh": first["refresh"]})
    assert second.status_code == 200
    second = second.json()
    assert second["refresh"] != first["refresh"]
    assert api("alpha").get("/api/v1/me", token=second["access"]).status_code == 200

    reused = api("alpha").post("/api/v1/auth/token/refresh", {"refresh": first["refresh"]})
    assert reused.status_code == 401
    # Reuse means the token leaked: the whole family is revoked.
    after = api("alpha").post("/api/v1/auth/token/refresh", {"refresh": second["refresh"]})
    assert after.status_code == 401


def test_logout_blacklists_the_refresh_token(api, casey):
    pair = _pair(api)
    assert api("alpha").post("/api/v1/auth/logout", {"refresh": pair["refresh"]}).status_code == 204
    response = api("alpha").post("/api/v1/auth/token/refresh", {"refresh": pair["refresh"]})
    assert response.status_code == 401


def test_garbage_tokens_are_401_not_500(api, casey):
    assert api("alpha").get("/api/v1/me", token="not.a.jwt").status_code == 401
    response = api("alpha").post("/api/v1/auth/token/refresh", {"refresh": "garbage"})
    assert response.status_code == 401
    assert api("alpha").get("/api/v1/me").status_code == 401


def test_inactive_account_cannot_sign_in_or_use_its_token(api, casey):
    pair = _pair(api)
    casey.is_active = False
    casey.save()
    assert api("alpha").get("/api/v1/me", token=pair["access"]).status_code == 401
    response = api("alpha").post(
        "/api/v1/auth/token", {"email": "casey@example.test", "password": PASSWORD}
    )
    assert response.status_code == 401
