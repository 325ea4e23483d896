"""The processing register: one declaration, rendered as a page and as JSON."""

from __future__ import annotations

import importlib.util
import re
from html.parser import HTMLParser

import pytest
from django.apps import apps

from compliance.callrix.register import REGISTER

pytestmark = pytest.mark.django_db

POLICY_PROCESSORS = {
    "Hetzner Online GmbH",
    "Stripe, Inc.",
    "Google LLC (Firebase)",
    "LiveKit, Inc.",
    "Matomo (self-hosted)",
}


class _Assets(HTMLParser):
    """Every URL the page would make a browser fetch or follow."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "data", "poster") and value:
                self.urls.append(value)


def test_the_register_declares_what_the_privacy_policy_promises():
    assert {p.name for p in REGISTER.processors} == POLICY_PROCESSORS
    assert {c.name for c in REGISTER.categories} == {
        "Account data",
        "Payment data",
        "Usage data",
        "Communication data",
        "Technical data",
    }
    assert {r.period_days for r in REGISTER.retention} == {30, 7 * 365 + 2, 2 * 365 + 1, 90}
    assert {(p.legal_basis, p.article) for p in REGISTER.purposes} == {
        ("Contract performance", "Art. 6(1)(b)"),
        ("Legitimate interest", "Art. 6(1)(f)"),
        ("Consent", "Art. 6(1)(a)"),
        ("Legal obligation", "Art. 6(1)(c)"),
    }
    assert REGISTER.category("payment").held_by == "stripe"
    for processor in REGISTER.processors:
        assert processor.location and processor.transfer_safeguard
        if "USA" in processor.location:
            assert "Standard Contractual Clauses" in processor.transfer_safeguard


def test_the_register_refers_only_to_what_exists():
    category_keys = {c.key for c in REGISTER.categories}
    processor_keys = {p.key for p in REGISTER.processors}
    for purpose in REGISTER.purposes:
        assert set(purpose.categories) <= category_keys, purpose.key
    for category in REGISTER.categories:
        assert category.retention in REGISTER.retention
        assert category.held_by is None or category.held_by in processor_keys
        for label in category.stored_in:
            assert apps.get_model(label) is not None
    for processor in REGISTER.processors:
        for module in processor.gateway_modules:
            assert importlib.util.find_spec(module) is not None, module
        assert bool(processor.gateway_modules) == bool(processor.sdk_packages), processor.key


def test_the_platform_api_returns_every_processor_from_the_register(api):
    response = api(None).get("/api/platform/v1/privacy/register")
    assert response.status_code == 200
    body = response.json()
    assert [p["name"] for p in body["processors"]] == [p.name for p in REGISTER.processors]
    stripe = next(p for p in body["processors"] if p["key"] == "stripe")
    assert "tenant_apps.payments.stripe_gateway" in stripe["gateway_modules"]
    assert stripe["location"] == "USA"
    assert [c["retention"]["period"] for c in body["categories"]] == [
        c.retention.period for c in REGISTER.categories
    ]
    assert len(body["purposes"]) == len(REGISTER.purposes)


def test_the_public_page_renders_every_processor_purpose_and_retention(host_client):
    response = host_client("localhost").get("/privacy/register")
    assert response.status_code == 200
    page = response.content.decode()
    for processor in REGISTER.processors:
        assert processor.name.replace("&", "&amp;") in page
        assert processor.transfer_safeguard in page
        for module in processor.gateway_modules:
            assert f"<code>{module}</code>" in page
    for purpose in REGISTER.purposes:
        assert purpose.name in page and purpose.article in page
    for category in REGISTER.categories:
        assert category.name in page
    for rule in REGISTER.retention:
        assert rule.period in page


def test_the_public_page_loads_nothing_from_other_hosts(host_client):
    response = host_client("localhost").get("/privacy/register")
    parser = _Assets()
    parser.feed(response.content.decode())
    for url in parser.urls:
        assert url.startswith("/") and not url.startswith("//") or url.startswith("mailto:"), url
    assert not re.search(r"https?://", response.content.decode())
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "style-src 'self'" in policy


def test_licensee_hosts_do_not_serve_callrix_register(alpha, host_client):
    assert host_client("alpha.localhost").get("/privacy/register").status_code == 404
