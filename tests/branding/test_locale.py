"""A licensee's region and time zone: its pages show money, numbers and times as its people
read them, in the language they chose (English or German)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from branding import services as brand_services
from branding.errors import BrandError
from tests.factories import PASSWORD
from tests.tenant_apps.calls.conftest import credit

pytestmark = pytest.mark.django_db


@pytest.fixture
def uk_alpha(alpha, make_user):
    brand_services.brand_update(licensee=alpha, region="gb", time_zone="Europe/London")
    caller = make_user("alpha", "uk-caller@alpha.test")
    with schema_context("alpha"):
        connection.tenant = alpha
        with time_machine.travel(datetime(2026, 12, 6, 5, 29, tzinfo=UTC), tick=False):
            credit(caller.pk, 8_223)
    connection.set_schema_to_public()
    return alpha


def _wallet_page(host_client, language: str) -> str:
    client = host_client("alpha.localhost")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    signed_in = client.post(
        "/account/login/", {"username": "uk-caller@alpha.test", "password": PASSWORD}
    )
    assert signed_in.status_code == 302
    return client.get("/wallet/").content.decode()


def test_an_english_page_of_a_uk_licensee_reads_british(uk_alpha, host_client):
    page = _wallet_page(host_client, "en")
    assert "€82.23" in page
    assert "06/12/2026, 05:29" in page  # day first, 24-hour clock, London time
    assert "a.m." not in page


def test_a_german_page_reads_german_money_and_dates(uk_alpha, host_client):
    page = _wallet_page(host_client, "de")
    assert re.search(r"82,23\s€", page)
    assert "€82.23" not in page
    assert "06.12.26, 05:29" in page


def test_region_and_time_zone_are_checked(alpha):
    with pytest.raises(BrandError) as bad_zone:
        brand_services.brand_update(licensee=alpha, time_zone="Mars/Olympus")
    assert bad_zone.value.field == "time_zone"
    with pytest.raises(BrandError) as bad_region:
        brand_services.brand_update(licensee=alpha, region="GBR")
    assert bad_region.value.field == "region"
