"""The licensee's e-mail sender in a real browser: Aurora's owner sets it on the dashboard's
"E-mail sender" page (refused off Aurora's own domains), sends a test message from it, and
reads the page in German; another licensee's page shows only its own sender."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from branding import services as brand_services
from branding.selectors import brand_cache
from tenants import services as tenant_services
from tenants.models import Domain

OWN_DOMAIN = "mail.aurora-psychics.example"


@pytest.fixture
def aurora_mail_domain(web_licensees, committed):
    """A domain Aurora has verified; afterwards the sender is back to no-reply@ its host."""
    aurora = web_licensees["aurora"]
    domain = tenant_services.domain_add(licensee=aurora, domain=OWN_DOMAIN)
    yield
    with schema_context("public"):
        brand_services.brand_mail_set(
            licensee=aurora, sender_email="", own_domains=["aurora.localhost"]
        )
        Domain.objects.filter(pk=domain.pk).delete()
    brand_cache.invalidate()
    connection.set_schema_to_public()


def test_the_owner_sets_and_tries_the_mail_sender(
    aurora_mail_domain, open_page, sign_in, screenshot, mailoutbox
):
    page = open_page("aurora")
    sign_in(page, "owner@aurora.test", next_path="/dashboard/")
    page.get_by_role("link", name="E-mail sender").click()
    page.get_by_role("heading", name="E-mail sender", level=1).wait_for()
    assert page.locator('[data-state="from-header"]').inner_text() == (
        "Aurora Psychics <no-reply@aurora.localhost>"
    )
    assert page.locator('[data-state="reply-to"]').inner_text() == "help@aurora.test"
    assert f"these domains: aurora.localhost, {OWN_DOMAIN}." in page.locator("main").inner_text()

    # An address on a domain that is not Aurora's is refused at its field.
    page.get_by_label("Sender address").fill("hello@someone-else.example")
    page.get_by_role("button", name="Save sender").click()
    assert "one of your verified domains" in page.locator("main form").last.inner_text()
    assert (
        page.locator('[data-state="from-header"]')
        .inner_text()
        .endswith("<no-reply@aurora.localhost>")
    )

    page.get_by_label("Sender address").fill(f"Stars@{OWN_DOMAIN}")
    page.get_by_role("button", name="Save sender").click()
    assert "The sender is saved." in page.locator("main").inner_text()
    assert page.locator('[data-state="from-header"]').inner_text() == (
        f"Aurora Psychics <stars@{OWN_DOMAIN}>"
    )
    assert page.get_by_label("Sender address").input_value() == f"stars@{OWN_DOMAIN}"
    screenshot(page, "dashboard-mail-sender")

    mailoutbox.clear()
    page.get_by_role("button", name="Send me a test message").click()
    assert "A test message is on its way to owner@aurora.test." in page.locator("main").inner_text()
    [message] = [m for m in mailoutbox if m.to == ["owner@aurora.test"]]
    assert message.from_email == f"Aurora Psychics <stars@{OWN_DOMAIN}>"
    assert message.reply_to == ["help@aurora.test"]
    assert "callrix" not in message.message().as_string().lower()

    # The same page in German, switched as a person switches it.
    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Switch").click()
    page.get_by_role("heading", name="E-Mail-Absender", level=1).wait_for()
    page.get_by_label("Absenderadresse").fill("hallo@someone-else.example")
    page.get_by_role("button", name="Absender speichern").click()
    assert "einer Ihrer bestätigten Domains" in page.locator("main form").last.inner_text()
    screenshot(page, "dashboard-mail-sender-de")
    page.context.add_cookies([{"name": "language", "value": "en", "url": page.url}])
    # The two refused forms answered 400 (as every refused dashboard form does); nothing else.
    assert [e for e in page.console_errors if "status of 400" not in e] == []
    assert len(page.console_errors) == 2 and page.failed_requests == []

    page.goto("/dashboard/audit/")
    audit = page.locator("main table").inner_text()
    assert "mail_sender.update" in audit and "mail_sender.test" in audit


def test_another_licensee_sees_only_its_own_sender(
    aurora_mail_domain, web_licensees, open_page, sign_in
):
    with schema_context("public"):
        brand_services.brand_mail_set(
            licensee=web_licensees["aurora"],
            sender_email=f"stars@{OWN_DOMAIN}",
            own_domains=[OWN_DOMAIN],
        )
    brand_cache.invalidate()
    connection.set_schema_to_public()
    page = open_page("borealis")
    sign_in(page, "owner@borealis.test", next_path="/dashboard/mail-sender/")
    main = page.locator("main").inner_text()
    assert "no-reply@borealis.localhost" in main
    assert OWN_DOMAIN not in main and "Aurora" not in page.content()
    # Borealis cannot send as Aurora's domain.
    page.get_by_label("Sender address").fill(f"stars@{OWN_DOMAIN}")
    page.get_by_role("button", name="Save sender").click()
    assert "one of your verified domains" in page.locator("main form").last.inner_text()
