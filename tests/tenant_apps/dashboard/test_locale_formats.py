"""The dashboard's dates and its CSV downloads read as the licensee's people read them: in the
reader's language with the licensee's region and time zone (kernel.formatting), never as
ISO strings in UTC or with a decimal point on a German page."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from branding import services as brand_services
from branding.selectors import brand_cache
from tenant_apps.dashboard.services import audit_record
from tenant_apps.payments.models import TopUpPackage

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 12, 6, 5, 29, tzinfo=UTC)  # 06:29 in Berlin


@pytest.fixture
def berlin(alpha):
    brand_services.brand_update(licensee=alpha, region="", time_zone="Europe/Berlin")
    brand_cache.invalidate()
    yield alpha
    brand_cache.invalidate()


def _reader(signed_in, language: str, slug: str = "alpha"):
    client = signed_in(slug, "admin", email=f"reader-{language}@{slug}.example.test")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _audited(alpha) -> None:
    with schema_context("alpha"), time_machine.travel(MOMENT, tick=False):
        connection.tenant = alpha
        from identity.models import User

        actor = User.objects.filter(role="owner").first()
        audit_record(actor=actor, action="brand.update", target="brand")
    connection.set_schema_to_public()


def test_csv_amounts_and_times_follow_the_reader_and_the_licensees_zone(berlin, signed_in):
    with schema_context("alpha"):
        TopUpPackage.objects.create(code="gold", name="Gold", amount_minor=2_050, bonus_minor=250)
    _audited(berlin)
    german, english = _reader(signed_in, "de"), _reader(signed_in, "en")

    [package] = _csv(german.get("/dashboard/packages/?format=csv"))
    assert (package["amount_minor"], package["amount"], package["bonus"]) == (
        "2050",
        "20,50",
        "2,50",
    )
    [package] = _csv(english.get("/dashboard/packages/?format=csv"))
    assert (package["amount"], package["bonus"]) == ("20.50", "2.50")

    # The audit trail's time on the licensee's wall clock (Berlin), not in UTC.
    audit = [
        row for row in _csv(german.get("/dashboard/audit/?format=csv")) if row["target"] == "brand"
    ]
    assert [row["at"] for row in audit] == ["2026-12-06 06:29"]


def test_dashboard_dates_are_local_and_in_the_readers_language(berlin, signed_in):
    _audited(berlin)
    german = _reader(signed_in, "de").get("/dashboard/audit/").content.decode()
    assert "06.12.2026, 06:29:00" in german
    assert "2026-12-06" not in german
    english = _reader(signed_in, "en").get("/dashboard/audit/").content.decode()
    assert "Dec 6, 2026, 6:29:00\u202fAM" in english  # English, on Berlin's clock


def test_the_overview_charts_name_days_in_the_readers_language(berlin, signed_in):
    with time_machine.travel(MOMENT, tick=False):
        german = _reader(signed_in, "de").get("/dashboard/?period=7").content.decode()
    assert "6. Dez." in german and "Dec" not in german


def test_another_licensees_audit_csv_has_none_of_these_rows(berlin, beta, signed_in):
    _audited(berlin)
    rows = _csv(_reader(signed_in, "de", slug="beta").get("/dashboard/audit/?format=csv"))
    assert all(row["target"] != "brand" for row in rows)


def test_status_and_role_words_of_the_lists_are_german(berlin, signed_in):
    german = _reader(signed_in, "de")
    calls = german.get("/dashboard/calls/").content.decode()
    assert ">Beendet</option>" in calls and ">Completed<" not in calls
    payouts = german.get("/dashboard/payouts/").content.decode()
    assert ">In Bearbeitung</option>" in payouts
    assert not any(f">{word}</option>" in payouts for word in ("Pending", "Paid", "Failed"))
    team = german.get("/dashboard/team/").content.decode()
    assert "<td>Administrator</td>" in team and "<td>Admin</td>" not in team


def test_the_brand_editor_sets_the_region_and_time_zone_the_pages_read(alpha, signed_in):
    _audited(alpha)
    owner = _reader(signed_in, "de")
    brand = {
        "app_name": "Alpha Stars",
        "primary_color": "#123456",
        "accent_color": "#a0306e",
        "default_language": "en",
        "currency_display": "symbol",
        "region": "gb",
        "time_zone": "Mars/Olympus",
    }
    refused = owner.post("/dashboard/brand/", brand)
    assert refused.status_code == 400
    assert "Geben Sie eine Zeitzone an" in refused.content.decode()
    try:
        saved = owner.post("/dashboard/brand/", {**brand, "time_zone": "Europe/London"})
        assert saved.status_code == 302
        brand_cache.invalidate()
        english = _reader(signed_in, "en").get("/dashboard/audit/").content.decode()
        assert "6 Dec 2026, 05:29:00" in english  # en_GB on London's clock
    finally:
        brand_services.brand_update(licensee=alpha, region="", time_zone="UTC")
        brand_cache.invalidate()
