"""Pages on a licensee's host: its language, its brand in e-mails, a strict CSP."""

from __future__ import annotations

import pytest

from branding import services

pytestmark = pytest.mark.django_db


def test_the_licensee_default_language_applies_until_the_user_switches(
    alpha, host_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.brand_update(licensee=alpha, default_language="de")
    client = host_client("alpha.localhost")
    page = client.get("/account/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert page["Content-Language"] == "de"
    assert '<html lang="de">' in page.content.decode() and "Anmelden" in page.content.decode()

    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/account/login/"})
    assert switched.status_code == 302 and switched["Location"] == "/account/login/"
    page = client.get("/account/login/").content.decode()
    assert '<html lang="en">' in page and "Sign in" in page


def test_another_licensee_keeps_its_own_default_language(
    alpha, beta, host_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.brand_update(licensee=alpha, default_language="de")
    page = host_client("beta.localhost").get("/account/login/")
    assert page["Content-Language"] == "en"


def test_pages_allow_only_their_own_origin(alpha, host_client):
    response = host_client("alpha.localhost").get("/account/login/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.split(" ", 1) for part in policy.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "http" not in policy  # no third-party origin on an ordinary page
    page = response.content.decode()
    assert "<script>" not in page and "style=" not in page  # nothing inline the CSP would block
    assert 'href="#main"' in page and 'id="main"' in page  # skip link


def test_e_mails_carry_the_licensee_brand_and_legal_footer(
    alpha, api, make_user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.brand_update(
            licensee=alpha,
            app_name="Alpha Stars",
            support_email="help@alpha.test",
            legal_entity_name="Alpha Stars GmbH",
            legal_address="Sternweg 1\n10115 Berlin",
            privacy_policy_url="https://alpha.example/privacy",
        )
    make_user("alpha", "casey@example.test")
    api("alpha").post("/api/v1/auth/password-reset", {"email": "casey@example.test"})
    [mail] = mailoutbox
    assert mail.from_email.startswith("Alpha Stars <")
    assert mail.reply_to == ["help@alpha.test"]
    assert "Alpha Stars" in mail.subject
    assert "Alpha Stars GmbH" in mail.body and "Sternweg 1" in mail.body
    html, mimetype = mail.alternatives[0]
    assert mimetype == "text/html"
    assert "#1f4e79" in html and "https://alpha.example/privacy" in html
    assert "/account/set-password/" in html
    assert "Callrix" not in mail.body + html + mail.from_email


def test_e_mails_follow_the_licensee_language(
    alpha, api, make_user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.brand_update(licensee=alpha, default_language="de")
    make_user("alpha", "casey@example.test")
    api("alpha").post("/api/v1/auth/password-reset", {"email": "casey@example.test"})
    assert mailoutbox[0].subject == "Passwort für Alpha Advice zurücksetzen"
