"""Session sign-in for dashboards and the staff admin; usage data for Callrix."""

from __future__ import annotations

import pytest
from django.test import Client

from shared_apps.usage.models import AdminLogin
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_in(client: Client, email: str, password: str = PASSWORD):
    return client.post("/account/login/", {"username": email, "password": password})


def test_admin_signs_in_with_a_session_on_its_own_host(alpha, make_user, host_client):
    make_user("alpha", "admin@example.test", role="admin")
    client = host_client("alpha.localhost")
    response = _sign_in(client, "admin@example.test")
    # Owners and admins land on the dashboard they run the platform from.
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    page = client.get("/account/")
    assert page.status_code == 200
    assert b"Signed in as admin" in page.content


def test_a_session_from_one_host_is_worthless_on_another(alpha, beta, make_user, host_client):
    make_user("alpha", "admin@example.test", role="admin")
    make_user("beta", "admin@example.test", role="admin")
    alpha_client = host_client("alpha.localhost")
    _sign_in(alpha_client, "admin@example.test")
    cookie = alpha_client.cookies["sessionid"].value

    beta_client = host_client("beta.localhost")
    beta_client.cookies["sessionid"] = cookie
    response = beta_client.get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/account/login/")

    public = host_client("localhost")
    public.cookies["sessionid"] = cookie
    assert public.get("/admin/").status_code == 302  # to the admin's login page


def test_session_sign_in_locks_out_on_the_sixth_failure(alpha, make_user, host_client):
    make_user("alpha", "admin@example.test", role="admin")
    client = host_client("alpha.localhost")
    for attempt in range(5):
        assert _sign_in(client, "admin@example.test", f"bad-{attempt}").status_code == 200
    locked = _sign_in(client, "admin@example.test", "bad-6")
    # A person at the form gets a page saying so (the API's JSON is for apps).
    assert locked.status_code == 429 and locked["Content-Type"].startswith("text/html")
    assert int(locked["Retry-After"]) > 0
    assert b"Sign-in paused" in locked.content and b'href="/account/login/"' in locked.content


def test_staff_admin_signs_in_and_locks_out(make_user, host_client):
    make_user("public", "staff@callrix.test", role="staff", is_staff=True, is_superuser=True)
    client = host_client("localhost")
    ok = client.post(
        "/admin/login/?next=/admin/", {"username": "staff@callrix.test", "password": PASSWORD}
    )
    assert ok.status_code == 302
    assert client.get("/admin/").status_code == 200

    other = host_client("localhost")
    for attempt in range(5):
        other.post("/admin/login/", {"username": "staff@callrix.test", "password": f"x{attempt}"})
    locked = other.post("/admin/login/", {"username": "staff@callrix.test", "password": "x6"})
    assert locked.status_code == 429 and b"Sign-in paused" in locked.content
    assert b'href="/admin/login/"' in locked.content


def test_licensee_admin_logins_are_usage_data_without_personal_details(
    alpha, api, make_user, host_client
):
    admin = make_user("alpha", "admin@example.test", role="owner")
    make_user("alpha", "user@example.test")
    api("alpha").post("/api/v1/auth/token", {"email": "admin@example.test", "password": PASSWORD})
    _sign_in(host_client("alpha.localhost"), "admin@example.test")
    api("alpha").post("/api/v1/auth/token", {"email": "user@example.test", "password": PASSWORD})

    rows = list(AdminLogin.objects.filter(licensee=alpha).order_by("id"))
    assert [(r.account_ref, r.role, r.channel) for r in rows] == [
        (admin.pk, "owner", "api"),
        (admin.pk, "owner", "session"),
    ]
    stored = " ".join(str(v) for r in rows for v in r.__dict__.values())
    assert "@" not in stored
