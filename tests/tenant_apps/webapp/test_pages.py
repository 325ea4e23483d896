"""The end users' web app and the advisors' console, page by page: who may open what, bad
input, and that one licensee's session is nobody on another's host."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from identity.models import User
from tenant_apps.advisors.models import Favorite
from tests.factories import PASSWORD
from tests.tenant_apps.calls.conftest import make_advisor, make_caller

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(alpha):
    with schema_context("alpha"):
        connection.tenant = alpha
        offline = make_advisor("mira@example.test", status="offline", display_name="Mira")
        online = make_advisor("luna@example.test", display_name="Luna")
        caller = make_caller("casey@example.test", credit_minor=1_234)
    connection.set_schema_to_public()
    return {"online": online, "offline": offline, "caller": caller}


def test_the_directory_shows_advisors_online_first_in_the_licensees_brand(people, host_client):
    page = host_client("alpha.localhost").get("/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index("Luna") < html.index("Mira")
    assert "Callrix" not in html
    assert "€2.00 per minute" in html


def test_a_bad_directory_filter_is_a_400_naming_the_choice(people, host_client):
    page = host_client("alpha.localhost").get("/?status=asleep&sort=cheapest")
    assert page.status_code == 400
    assert "Select a valid choice" in page.content.decode()


def test_an_advisor_page_shows_rate_and_a_call_button_only_when_online(
    people, host_client, signed_in
):
    anonymous = host_client("alpha.localhost").get(f"/advisors/{people['online'].pk}/")
    assert anonymous.status_code == 200 and "Sign in to call" in anonymous.content.decode()
    caller = signed_in("alpha", people["caller"])
    online = caller.get(f"/advisors/{people['online'].pk}/").content.decode()
    assert 'data-api-url="/api/v1/calls"' in online and "€2.00 per minute" in online
    offline = caller.get(f"/advisors/{people['offline'].pk}/").content.decode()
    assert 'data-api-url="/api/v1/calls"' not in offline
    assert caller.get("/advisors/999999/").status_code == 404


@pytest.mark.parametrize("path", ["/wallet/", "/favorites/", "/calls/", "/privacy/", "/advisor/"])
def test_signed_in_pages_send_visitors_to_sign_in(people, host_client, path):
    response = host_client("alpha.localhost").get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/account/login/?next={path.replace('/', '%2F')}"


def test_each_role_gets_only_its_own_pages(people, signed_in):
    caller = signed_in("alpha", people["caller"])
    advisor = signed_in("alpha", people["online"].user)
    assert caller.get("/advisor/").status_code == 403
    assert advisor.get("/wallet/").status_code == 403
    assert advisor.get("/favorites/").status_code == 403
    assert advisor.get("/advisor/").status_code == 200
    assert caller.get("/wallet/").status_code == 200


def test_the_wallet_shows_the_balance_and_the_favorites_page_the_favorites(people, signed_in):
    caller = signed_in("alpha", people["caller"])
    wallet = caller.get("/wallet/").content.decode()
    assert "€12.34" in wallet
    with schema_context("alpha"):
        Favorite.objects.create(user=people["caller"], advisor=people["offline"])
    favorites = caller.get("/favorites/").content.decode()
    assert "Mira" in favorites and "Luna" not in favorites


def test_the_advisor_console_shows_presence_earnings_and_profile(people, signed_in):
    page = signed_in("alpha", people["online"].user).get("/advisor/").content.decode()
    assert "Go offline" in page and 'name="rate"' in page and 'value="2.00"' in page
    assert "Set up payouts" in page


def test_a_session_opened_at_alpha_is_nobody_at_beta(people, beta, signed_in):
    alpha_client = signed_in("alpha", people["caller"])
    stolen = Client(HTTP_HOST="beta.localhost")
    # alpha's session cookie, replayed on beta's host
    stolen.cookies["sessionid"] = alpha_client.cookies["sessionid"].value
    page = stolen.get("/wallet/")
    assert page.status_code == 302 and page["Location"].startswith("/account/login/")
    assert stolen.get("/api/v1/wallet").status_code == 401
    assert alpha_client.get("/api/v1/wallet").json()["available"] == 1_234


def test_the_session_reaches_the_api_and_writes_need_the_csrf_token(people, signed_in):
    client = signed_in("alpha", people["caller"], csrf=True)
    assert client.get("/api/v1/wallet").status_code == 200
    url = f"/api/v1/advisors/{people['online'].pk}/favorite"
    refused = client.put(url)
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    client.get("/wallet/")  # the page sets the CSRF cookie its scripts send back
    token = client.cookies["csrftoken"].value
    assert client.put(url, HTTP_X_CSRFTOKEN=token).status_code == 204
    with schema_context("alpha"):
        assert Favorite.objects.filter(user=people["caller"]).count() == 1


def test_the_session_api_keeps_role_checks(people, signed_in):
    advisor = signed_in("alpha", people["online"].user)
    refused = advisor.get("/api/v1/wallet")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"


def test_registering_signs_the_new_user_in(alpha, host_client):
    client = host_client("alpha.localhost")
    response = client.post(
        "/account/register/",
        {
            "display_name": "Nova",
            "email": "Nova@Example.test",
            "password": PASSWORD,
            "birth_date": "1990-04-01",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/wallet/"
    assert "€0.00" in client.get("/wallet/").content.decode()
    with schema_context("alpha"):
        user = User.objects.get(email="nova@example.test")
        assert user.role == "end_user" and user.birth_date == date(1990, 4, 1)


def test_registration_refuses_minors_and_bad_input_naming_the_field(alpha, host_client):
    client = host_client("alpha.localhost")
    young = client.post(
        "/account/register/",
        {
            "display_name": "Kid",
            "email": "kid@example.test",
            "password": PASSWORD,
            "birth_date": date.today().replace(year=date.today().year - 16).isoformat(),
        },
    )
    assert young.status_code == 400
    assert 'id="id_birth_date-error"' in young.content.decode()
    bad = client.post("/account/register/", {"email": "not-an-email", "birth_date": "soon"})
    html = bad.content.decode()
    assert bad.status_code == 400 and 'id="id_email-error"' in html
    with schema_context("alpha"):
        assert not User.objects.filter(email="kid@example.test").exists()


def test_the_privacy_centre_offers_export_consents_and_erasure(people, signed_in):
    page = signed_in("alpha", people["caller"]).get("/privacy/").content.decode()
    assert 'href="/api/v1/me/export"' in page
    assert 'data-api-url="/api/v1/me/consents"' in page
    assert 'data-api-method="DELETE" data-api-url="/api/v1/me"' in page


def test_pages_render_in_german(people, signed_in):
    client = signed_in("alpha", people["caller"])
    client.cookies["language"] = "de"
    page = client.get("/wallet/").content.decode()
    assert '<html lang="de">' in page and "Guthaben" in page


def test_registration_shares_the_apis_rate_limit(alpha, host_client, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "register": "2/h"}
    client = host_client("alpha.localhost")
    for _ in range(2):
        assert client.post("/account/register/", {"email": "x"}).status_code == 400
    refused = client.post("/account/register/", {"email": "x"})
    assert refused.status_code == 429 and "Too many attempts" in refused.content.decode()


def test_the_closed_account_page_signs_out_only_a_closed_account(people, signed_in):
    client = signed_in("alpha", people["caller"])
    client.get("/account/closed/")
    assert client.get("/wallet/").status_code == 200, "a live account stays signed in"
    with schema_context("alpha"):
        User.objects.filter(pk=people["caller"].pk).update(is_active=False)
    client.get("/account/closed/")
    with schema_context("alpha"):
        User.objects.filter(pk=people["caller"].pk).update(is_active=True)
    assert client.get("/wallet/").status_code == 302, "the closed account's session was dropped"


def test_a_session_not_opened_on_this_licensee_is_not_accepted(people, signed_in):
    from django.contrib.sessions.backends.db import SessionStore

    from identity.auth import SESSION_SCHEMA_KEY

    client = signed_in("alpha", people["caller"])
    with schema_context("alpha"):
        stored = SessionStore(session_key=client.cookies["sessionid"].value)
        assert stored[SESSION_SCHEMA_KEY] == "alpha"
        stored[SESSION_SCHEMA_KEY] = "beta"
        stored.save()
    assert client.get("/api/v1/wallet").status_code == 401
    assert client.get("/wallet/").status_code == 302
