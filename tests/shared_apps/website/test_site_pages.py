"""Callrix's public website: home with what the platform does and screenshots of a branded
platform, pricing from the plans, the privacy policy in its current version, legal notice,
contact; every page links to the others and answers only on the public host."""

from __future__ import annotations

import pytest
from django.utils import timezone

from shared_apps.billing.models import Plan
from shared_apps.privacy import services as policy_services

pytestmark = pytest.mark.django_db

PAGES = ["/", "/pricing/", "/signup/", "/privacy/", "/legal/", "/contact/"]


@pytest.fixture
def offer():
    Plan.objects.create(code="site-basic", name="Basic", monthly_fee_minor=4_900)
    Plan.objects.create(code="site-old", name="Retired", monthly_fee_minor=100, active=False)


def test_every_page_answers_and_links_to_the_others(host_client, offer):
    for path in PAGES:
        page = host_client("localhost").get(path)
        assert page.status_code == 200, path
        body = page.content.decode()
        for link in ("/pricing/", "/signup/", "/privacy/", "/legal/", "/contact/"):
            assert f'href="{link}"' in body, (path, link)
        assert 'href="/privacy/register"' in body and 'id="content"' in body


def test_home_shows_the_platform_and_a_branded_licensee(host_client, offer):
    page = host_client("localhost").get("/").content.decode()
    assert "What your platform does" in page
    for shot in ("screenshot-app.jpg", "screenshot-wallet.jpg", "screenshot-dashboard.jpg"):
        assert f"/static/website/{shot}" in page
        assert host_client("localhost").get(f"/static/website/{shot}").status_code == 200
    assert 'href="/signup/?plan=site-basic"' in page


def test_pricing_lists_the_plans_on_offer(host_client, offer):
    page = host_client("localhost").get("/pricing/").content.decode()
    assert "Basic" in page and "€49.00" in page and "Retired" not in page


def test_the_privacy_policy_shows_the_version_in_force(host_client):
    today = timezone.now().date()
    policy_services.policy_publish(
        version="2026-11", effective_on=today, summary="First.", material=False
    )
    page = host_client("localhost").get("/privacy/").content.decode()
    assert "Version 2026-11, in force since" in page
    assert "<h2>1. Data Controller</h2>" in page
    assert "<li>Full name and company name</li>" in page


def test_legal_notice_and_contact_name_the_provider(host_client):
    legal = host_client("localhost").get("/legal/").content.decode()
    assert "KCraft Studio LTD" in legal and "Cyprus" in legal
    contact = host_client("localhost").get("/contact/").content.decode()
    assert 'href="mailto:hello@callrix.io"' in contact


def test_the_website_is_not_served_on_a_licensee_host(host_client, alpha):
    for path in ("/pricing/", "/legal/", "/contact/"):
        assert host_client("alpha.localhost").get(path).status_code == 404, path
