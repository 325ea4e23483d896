"""Small things a visitor of the public host meets: its icon, the staff admin's name."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_public_host_has_a_favicon(host_client):
    icon = host_client("localhost").get("/favicon.ico")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/png"
    assert b"".join(icon.streaming_content).startswith(b"\x89PNG")
    page = host_client("localhost").get("/").content.decode()
    assert '<link rel="icon" href="/static/website/favicon.png"' in page


def test_the_staff_admin_is_named_for_what_it_is(host_client):
    login = host_client("localhost").get("/admin/login/").content.decode()
    assert "Callrix staff admin" in login and "Django administration" not in login
