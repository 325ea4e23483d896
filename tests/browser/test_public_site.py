"""Callrix's public site in Chromium, through its real forms with CSRF on: a visitor signs up
for the trial plan and for a paid plan (paying the first invoice on the Stripe sandbox's
hosted invoice page, whose signed webhook a real worker turns into the platform); staff
suspend, reactivate and terminate a licensee in the admin; the terminated licensee's owner
downloads the final export from the link e-mailed to them."""

from __future__ import annotations

import re
import time
import zipfile

import dramatiq
import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django_tenants.utils import schema_context
from dramatiq import Worker

from shared_apps.accounts.models import AccountHolder
from shared_apps.billing.models import BillingEvent, Invoice, Plan, Subscription
from tenants.models import Licensee
from tests.factories import PASSWORD, licensee_destroy, licensee_make, password_hash, worker_stop


@pytest.fixture
def public_page(browser, callrix_server, committed):
    contexts = []

    def open_():
        context = browser.new_context(base_url=callrix_server.url.replace("127.0.0.1", "localhost"))
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on(
            "console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None
        )
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def worker():
    broker = dramatiq.get_broker()
    broker.flush_all()
    running = Worker(broker, worker_threads=2, worker_timeout=100)
    running.start()
    yield running
    worker_stop(running)


def _wait(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _clean_up(*slugs: str) -> None:
    with schema_context("public"):
        for slug in slugs:
            for licensee in Licensee.objects.filter(slug=slug):
                licensee_destroy(licensee)
            Invoice.objects.filter(subscription__slug=slug).delete()
            Subscription.objects.filter(slug=slug).delete()
            emails = [f"lea@{slug}.example"]
            AccountHolder.objects.filter(user__email__in=emails).delete()
            get_user_model().objects.filter(email__in=emails).delete()
        Plan.objects.filter(code__in=["web-trial", "web-basic"]).delete()
        BillingEvent.objects.all().delete()
    connection.set_schema_to_public()


@pytest.fixture
def shop(stripe, callrix_server, settings, committed):
    """Callrix's own Stripe account at the sandbox, its webhooks to the public host, two plans."""
    credentials = stripe.create_account(
        display_name="Callrix",
        webhook_url=f"{callrix_server.url}/webhooks/stripe",
        webhook_host="localhost",
    )
    settings.CALLRIX_STRIPE_SECRET_KEY = credentials["secret_key"]
    settings.CALLRIX_STRIPE_WEBHOOK_SECRET = credentials["webhook_secret"]
    # Links the site builds (the new platform's address, e-mails) name the test server's port.
    settings.SITE_PORT = callrix_server.url.rsplit(":", 1)[1]
    with schema_context("public"):
        Plan.objects.create(
            code="web-trial", name="Trial", monthly_fee_minor=9_900, currency="EUR", trial_days=14
        )
        Plan.objects.create(code="web-basic", name="Basic", monthly_fee_minor=4_900, currency="EUR")
    yield
    _clean_up("web-trial-co", "web-paid-co")


def _fill_sign_up(page, *, plan: str, slug: str) -> None:
    page.get_by_label("Plan").select_option(plan)
    page.get_by_label("Address", exact=True).fill(slug)
    page.get_by_label("Company").fill("Lea Readings GmbH")
    page.get_by_label("Full name").fill("Lea Lumen")
    page.get_by_label("E-mail").fill(f"lea@{slug}.example")
    page.get_by_label("Phone").fill("+49 30 123456")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Street and number").fill("Hauptstraße 1")
    page.get_by_label("City").fill("Berlin")
    page.get_by_label("Postal code").fill("10115")
    page.get_by_label("Country (two-letter code, e.g. DE)").fill("DE")
    page.get_by_role("button", name="Sign up").click()


def test_a_visitor_signs_up_for_the_trial_and_reaches_the_new_platform(
    shop, public_page, screenshot
):
    page = public_page()
    page.goto("/")
    page.locator('a[href="/signup/?plan=web-trial"]').first.click()
    page.wait_for_url("**/signup/?plan=web-trial")
    _fill_sign_up(page, plan="web-trial", slug="web-trial-co")
    page.locator("#ready").wait_for()
    screenshot(page, "site-signup-trial-ready")
    link = page.locator("#ready a").first
    assert link.get_attribute("href").startswith("http://web-trial-co.localhost:")
    link.click()
    page.wait_for_url("http://web-trial-co.localhost:*/")
    assert page.title().endswith("· Lea Readings GmbH"), page.title()
    assert page.console_errors == []


def test_a_paid_sign_up_is_paid_on_the_sandbox_invoice_page_and_provisioned(
    shop, worker, public_page, screenshot
):
    page = public_page()
    page.goto("/signup/?plan=web-basic")
    _fill_sign_up(page, plan="web-basic", slug="web-paid-co")
    page.locator("#waiting").wait_for()
    # The invoice opens in a new tab; the status page stays open behind it.
    with page.expect_popup() as opened:
        page.get_by_role("link", name="Pay the first invoice (opens a new tab)").click()
    invoice = opened.value
    invoice.get_by_role("button", name="Pay", exact=True).click()
    invoice.get_by_text("This invoice is settled.").wait_for()
    screenshot(invoice, "site-signup-invoice-paid")
    # The status page refreshes itself until the worker has provisioned the platform.
    page.locator("#ready").wait_for(timeout=45_000)
    screenshot(page, "site-signup-paid-ready")
    with schema_context("public"):
        assert Licensee.objects.get(slug="web-paid-co").status == "active"
        assert Invoice.objects.get(subscription__slug="web-paid-co").status == "paid"
    connection.set_schema_to_public()


@pytest.fixture
def nova(committed):
    licensee = licensee_make(
        slug="web-nova", name="Nova Oracles", owner_password_hash=password_hash(), status="active"
    )
    with schema_context("public"):
        staff = get_user_model().objects.create(
            email="staff@web.test",
            role="staff",
            password=password_hash(),
            display_name="Staff",
            is_staff=True,
            is_superuser=True,
        )
    connection.set_schema_to_public()
    yield licensee
    with schema_context("public"):
        staff.delete()
    licensee_destroy(licensee)
    connection.set_schema_to_public()


def _status(slug: str) -> str:
    with schema_context("public"):
        return Licensee.objects.get(slug=slug).status


def _admin_action(page, slug: str, label: str) -> None:
    page.goto("/admin/tenants/licensee/")
    row = page.locator("#result_list tr", has_text=slug)
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option(label=label)
    page.get_by_role("button", name="Go").click()
    page.wait_for_load_state()


def test_staff_suspend_reactivate_terminate_and_the_owner_downloads_the_final_export(
    nova, worker, public_page, screenshot, mailoutbox, tmp_path, callrix_server, settings
):
    settings.SITE_PORT = callrix_server.url.rsplit(":", 1)[1]
    page = public_page()
    page.goto("/admin/")
    assert page.title().startswith("Log in | Callrix staff admin")
    page.locator("#id_username").fill("staff@web.test")
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")

    _admin_action(page, "web-nova", "Suspend (hosts answer 403; data untouched)")
    assert page.get_by_text("Suspended 1 licensee(s).").count() == 1
    assert _status("web-nova") == "suspended"
    _admin_action(page, "web-nova", "Reactivate")
    assert _status("web-nova") == "active"
    _admin_action(page, "web-nova", "Terminate (hosts answer 410; data deleted after 30 days)")
    screenshot(page, "admin-terminate-confirm")
    page.get_by_role("button", name="Yes, terminate").click()
    page.get_by_text("Terminated 1 licensee(s).").wait_for()
    assert _status("web-nova") == "terminated"

    # The worker writes the final export and e-mails the owner its link.
    assert _wait(lambda: any("is ready" in m.subject for m in mail.outbox), 60)
    [ready] = [m for m in mail.outbox if "is ready" in m.subject]
    link = re.search(r"https?://\S+", ready.body).group(0)
    path = "/privacy/final-export/" + link.rsplit("/privacy/final-export/", 1)[1]

    owner = public_page()
    owner.goto(path)
    assert "Nova Oracles" in owner.locator("main").inner_text()
    owner.get_by_label("E-mail address").fill("owner@web-nova.test")
    owner.get_by_label("Password").fill(PASSWORD)
    with owner.expect_download() as download:
        owner.get_by_role("button", name="Download the export").click()
    saved = tmp_path / "export.zip"
    download.value.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        assert "manifest.json" in archive.namelist()
        assert "web-nova" in archive.read("manifest.json").decode()
