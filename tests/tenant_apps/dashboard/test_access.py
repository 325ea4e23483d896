"""Who may open the dashboard, on which host."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tests.tenant_apps.calls.conftest import make_advisor

pytestmark = pytest.mark.django_db

PAGES = [
    "/dashboard/",
    "/dashboard/advisors/",
    "/dashboard/users/",
    "/dashboard/calls/",
    "/dashboard/payouts/",
    "/dashboard/packages/",
    "/dashboard/promotions/",
    "/dashboard/pricing/",
    "/dashboard/brand/",
    "/dashboard/integrations/",
    "/dashboard/domains/",
    "/dashboard/exports/",
    "/dashboard/team/",
    "/dashboard/audit/",
]


def test_a_visitor_is_sent_to_sign_in(alpha, host_client):
    client = host_client("alpha.localhost")
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith("/account/login/?next=/dashboard/")


@pytest.mark.parametrize("role", ["end_user", "advisor"])
def test_end_users_and_advisors_cannot_open_it(alpha, signed_in, role):
    client = signed_in("alpha", role)
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 403, page
        assert b"owner and admins only" in response.content
    assert client.post("/dashboard/advisors/invite", {"email": "x@y.test"}).status_code == 403


@pytest.mark.parametrize("role", ["admin", "owner"])
def test_admins_and_the_owner_open_every_page(alpha, signed_in, role):
    client = signed_in("alpha", role)
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200, page
        assert response["Content-Security-Policy"].startswith("default-src 'self'")
        assert b"Callrix" not in response.content, page


def test_a_session_of_another_licensee_is_worthless_here(alpha, beta, signed_in, host_client):
    beta_client = signed_in("beta", "owner")
    alpha_client = host_client("alpha.localhost")
    alpha_client.cookies["sessionid"] = beta_client.cookies["sessionid"].value
    assert alpha_client.get("/dashboard/").status_code == 302


def test_one_licensees_dashboard_never_lists_anothers_people(alpha, beta, signed_in, make_user):
    with schema_context("beta"):
        make_advisor("orion@beta.test", display_name="Orion of Beta")
    make_user("beta", "bea@beta.test", display_name="Bea of Beta")
    client = signed_in("alpha", "admin")
    for page in ("/dashboard/advisors/", "/dashboard/users/", "/dashboard/advisors/?format=csv"):
        body = (
            b"".join(client.get(page).streaming_content)
            if "csv" in page
            else client.get(page).content
        )
        assert b"of Beta" not in body and b"beta.test" not in body, page
    assert b"Beta Guidance" not in client.get("/dashboard/").content


def test_only_the_owner_invites_admins(
    alpha, signed_in, mailoutbox, django_capture_on_commit_callbacks
):
    admin = signed_in("alpha", "admin")
    refused = admin.post("/dashboard/team/", {"email": "new@alpha.test", "display_name": "New"})
    assert refused.status_code == 403
    owner = signed_in("alpha", "owner")
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(
            "/dashboard/team/", {"email": "new@alpha.test", "display_name": "New"}
        )
    assert response.status_code == 302
    assert "new@alpha.test" in owner.get("/dashboard/team/").content.decode()
    assert (
        mailoutbox[-1].to == ["new@alpha.test"] and "/account/set-password/" in mailoutbox[-1].body
    )


def test_the_dashboard_speaks_the_users_language(alpha, signed_in):
    client = signed_in("alpha", "owner")
    assert "<h1>Overview</h1>" in client.get("/dashboard/").content.decode()
    client.post("/i18n/setlang/", {"language": "de", "next": "/dashboard/"})
    page = client.get("/dashboard/").content.decode()
    assert "<h1>Übersicht</h1>" in page and "Gesprächsminuten" in page


def test_inviting_a_taken_address_to_the_team_is_refused(alpha, signed_in, make_user):
    make_user("alpha", "taken@alpha.test")
    owner = signed_in("alpha", "owner")
    response = owner.post("/dashboard/team/", {"email": "taken@alpha.test", "display_name": "X"})
    assert response.status_code == 400
    assert "An account with this e-mail address exists" in response.content.decode()
