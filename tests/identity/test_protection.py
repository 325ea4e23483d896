"""Brute-force lockouts (django-axes, per licensee) and Redis throttling (per licensee)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _try(api, slug, password, email="lock@example.test"):
    return api(slug).post("/api/v1/auth/token", {"email": email, "password": password})


def test_the_sixth_wrong_password_in_a_row_is_429_and_locks_the_pair(api, alpha, make_user):
    make_user("alpha", "lock@example.test")
    for attempt in range(5):
        assert _try(api, "alpha", f"wrong-{attempt}").status_code == 401
    locked = _try(api, "alpha", "wrong-6")
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert "30 minutes" in locked.json()["detail"]
    assert int(locked["Retry-After"]) == 1800
    # Even the right password is refused while locked ...
    assert _try(api, "alpha", PASSWORD).status_code == 429
    # ... until the 30 minutes are over.
    with time_machine.travel(timezone.now() + timedelta(minutes=31), tick=False):
        assert _try(api, "alpha", PASSWORD).status_code == 200


def test_a_lockout_at_one_licensee_does_not_lock_the_same_email_at_another(
    api, alpha, beta, make_user
):
    make_user("alpha", "lock@example.test")
    make_user("beta", "lock@example.test")
    for attempt in range(6):
        _try(api, "alpha", f"wrong-{attempt}")
    assert _try(api, "alpha", PASSWORD).status_code == 429
    assert _try(api, "beta", PASSWORD).status_code == 200


@time_machine.travel(timezone.now(), tick=False)
def test_password_reset_is_throttled_with_retry_after_per_licensee(api, alpha, beta):
    for _ in range(5):
        response = api("alpha").post("/api/v1/auth/password-reset", {"email": "a@b.test"})
        assert response.status_code == 202
    throttled = api("alpha").post("/api/v1/auth/password-reset", {"email": "a@b.test"})
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled"
    assert 1 <= int(throttled["Retry-After"]) <= 3600
    # The limit at alpha never blocks beta.
    assert api("beta").post("/api/v1/auth/password-reset", {"email": "a@b.test"}).status_code == 202


@pytest.mark.parametrize(
    ("path", "body", "limit"),
    [
        ("/api/v1/auth/register", lambda i: {"email": "x"}, 10),
        # A new address each time, so the lockout (not what we test here) never triggers.
        ("/api/v1/auth/token", lambda i: {"email": f"t{i}@t.test", "password": "x"}, 30),
        ("/api/v1/auth/token/refresh", lambda i: {"refresh": "x"}, 60),
    ],
)
def test_sensitive_endpoints_are_throttled(api, alpha, path, body, limit):
    client = api("alpha")
    # Frozen time: all attempts fall in one fixed window, however slow the machine is.
    with time_machine.travel(timezone.now(), tick=False):
        for attempt in range(limit):
            assert client.post(path, body(attempt)).status_code != 429
        response = client.post(path, body(limit))
    assert response.status_code == 429
    assert response["Retry-After"]


def test_roles_admin_endpoint_is_403_for_end_users_and_lists_only_own_licensee(
    api, alpha, beta, make_user
):
    make_user("alpha", "boss@example.test", role="admin")
    make_user("alpha", "someone@example.test")
    make_user("beta", "beta-only@example.test")

    def token(email):
        return (
            api("alpha")
            .post("/api/v1/auth/token", {"email": email, "password": PASSWORD})
            .json()["access"]
        )

    denied = api("alpha").get("/api/v1/admin/users", token=token("someone@example.test"))
    assert denied.status_code == 403
    assert denied.json()["code"] == "permission_denied"

    listing = api("alpha").get("/api/v1/admin/users", token=token("boss@example.test"))
    assert listing.status_code == 200
    emails = {row["email"] for row in listing.json()["results"]}
    assert {"boss@example.test", "someone@example.test", "owner@alpha.test"} <= emails
    assert "beta-only@example.test" not in emails

    filtered = api("alpha").get(
        "/api/v1/admin/users", token=token("boss@example.test"), role="end_user"
    )
    assert {row["email"] for row in filtered.json()["results"]} == {"someone@example.test"}
    bad = api("alpha").get("/api/v1/admin/users", token=token("boss@example.test"), role="king")
    assert bad.status_code == 422 and bad.json()["field"] == "role"


def test_a_locked_out_web_sign_in_gets_a_page_not_json(alpha, make_user, host_client, settings):
    make_user("alpha", "locked-web@example.test")
    client = host_client("alpha.localhost")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    for _ in range(5):
        client.post("/account/login/", {"username": "locked-web@example.test", "password": "no"})
    locked = client.post(
        "/account/login/", {"username": "locked-web@example.test", "password": PASSWORD}
    )
    assert locked.status_code == 429 and locked["Retry-After"] == "1800"
    assert locked["Content-Type"].startswith("text/html")
    page = locked.content.decode()
    assert "Anmeldung pausiert" in page and "30 Minuten" in page
    assert '"code"' not in page
