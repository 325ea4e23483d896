"""Exact money on the dashboard: forms show and parse amounts with the licensee currency's own
digits, so re-saving a form never changes an amount (¥500 stays ¥500)."""

from __future__ import annotations

import csv
import io
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context

from branding.selectors import brand_cache
from tenant_apps.advisors.models import Advisor
from tenant_apps.pricing import services as pricing_services
from tenant_apps.pricing.selectors import policy_get
from tenants.models import Licensee
from tenants.routing import invalidate_hosts
from tests.tenant_apps.calls.conftest import make_advisor

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _currency_restored(alpha):
    """The licensee object is shared by the whole session: put its currency back (the
    database's change is rolled back) and drop what the caches kept of the test's."""
    original = alpha.currency
    yield
    alpha.currency = original
    invalidate_hosts()
    brand_cache.invalidate()


def _inputs(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="text" name="(\w+)" value="([^"]*)"', html))


def _in_currency(licensee: Licensee, code: str) -> None:
    licensee.currency = code
    licensee.save(update_fields=["currency"])
    invalidate_hosts()
    brand_cache.invalidate()


@pytest.mark.parametrize(
    ("code", "rates", "rate", "shown"),
    [
        ("EUR", (50, 2_000), 250, ("0.50", "20.00", "2.50")),
        ("GBP", (75, 1_500), 199, ("0.75", "15.00", "1.99")),
        ("USD", (1, 99_999), 1_000, ("0.01", "999.99", "10.00")),
        ("JPY", (100, 2_000), 500, ("100", "2000", "500")),
        ("KWD", (50, 2_000), 1_250, ("0.050", "2.000", "1.250")),
    ],
)
def test_pricing_and_rate_forms_keep_every_amount_through_a_save(
    alpha, signed_in, code, rates, rate, shown
):
    _in_currency(alpha, code)
    admin = signed_in("alpha", "admin")
    with schema_context("alpha"):
        connection.tenant = alpha
        pricing_services.policy_update(min_rate_minor=rates[0], max_rate_minor=rates[1])
        advisor = make_advisor(f"luna-{code.lower()}@alpha.test", rate=rate)
        before = policy_get()

    page = admin.get("/dashboard/pricing/")
    assert page.status_code == 200
    fields = _inputs(page.content.decode())
    assert (fields["min_rate"], fields["max_rate"]) == shown[:2]
    saved = admin.post(
        "/dashboard/pricing/",
        {
            **fields,
            "billing_mode": before.billing_mode,
            "intro_free_seconds": before.intro_free_seconds,
            "minimum_minutes": before.minimum_minutes,
            "grace_seconds": before.grace_seconds,
            "advisor_share_percent": before.advisor_share_bps / 100,
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:2000]
    with schema_context("alpha"):
        after = policy_get()
        assert (after.min_rate_minor, after.max_rate_minor) == rates

    detail = admin.get(f"/dashboard/advisors/{advisor.pk}/")
    assert _inputs(detail.content.decode())["rate"] == shown[2]
    resaved = admin.post(f"/dashboard/advisors/{advisor.pk}/rate", {"rate": shown[2]})
    assert resaved.status_code == 302
    with schema_context("alpha"):
        assert Advisor.objects.get(pk=advisor.pk).rate_minor_per_minute == rate


def test_a_yen_form_refuses_decimals_instead_of_dividing_by_100(alpha, signed_in):
    _in_currency(alpha, "JPY")
    admin = signed_in("alpha", "admin")
    with schema_context("alpha"):
        connection.tenant = alpha
        advisor = make_advisor("luna-yen@alpha.test", rate=500)
    refused = admin.post(f"/dashboard/advisors/{advisor.pk}/rate", {"rate": "499.5"})
    assert refused.status_code == 400
    assert "whole amount" in refused.content.decode()
    with schema_context("alpha"):
        assert Advisor.objects.get(pk=advisor.pk).rate_minor_per_minute == 500


def test_csv_exports_carry_the_amount_in_the_currencys_digits(alpha, signed_in):
    _in_currency(alpha, "JPY")
    admin = signed_in("alpha", "admin")
    with schema_context("alpha"):
        connection.tenant = alpha
        make_advisor("luna-csv@alpha.test", rate=500)
    response = admin.get("/dashboard/advisors/?format=csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["rate_minor_per_minute"], r["rate_per_minute"]) for r in rows] == [("500", "500")]


def test_licensee_create_with_jpy_keeps_a_500_yen_rate_through_a_pricing_save(signed_in):
    out = StringIO()
    call_command(
        "licensee",
        "create",
        "--slug",
        "yen-house",
        "--name",
        "Yen House",
        "--owner-email",
        "owner@yen.test",
        "--currency",
        "JPY",
        stdout=out,
    )
    licensee = Licensee.objects.get(slug="yen-house")
    assert licensee.currency == "JPY"
    admin = signed_in("yen-house", "admin")
    with schema_context(licensee.schema_name):
        connection.tenant = licensee
        advisor = make_advisor("luna@yen.test", rate=500)
    fields = _inputs(admin.get("/dashboard/pricing/").content.decode())
    with schema_context(licensee.schema_name):
        policy = policy_get()
    response = admin.post(
        "/dashboard/pricing/",
        {
            **fields,
            "billing_mode": policy.billing_mode,
            "intro_free_seconds": policy.intro_free_seconds,
            "minimum_minutes": policy.minimum_minutes,
            "grace_seconds": policy.grace_seconds,
            "advisor_share_percent": policy.advisor_share_bps / 100,
        },
    )
    assert response.status_code == 302
    with schema_context(licensee.schema_name):
        assert Advisor.objects.get(pk=advisor.pk).rate_minor_per_minute == 500
        assert (policy_get().min_rate_minor, policy_get().max_rate_minor) == (
            policy.min_rate_minor,
            policy.max_rate_minor,
        )


@pytest.mark.parametrize("code", ["XYZ", "ISK"])
def test_licensee_create_refuses_a_currency_stripe_does_not_take(code):
    with pytest.raises(CommandError, match="currency"):
        call_command(
            "licensee",
            "create",
            "--slug",
            "odd-money",
            "--name",
            "Odd",
            "--owner-email",
            "owner@odd.test",
            "--currency",
            code,
            stdout=StringIO(),
        )
    assert not Licensee.objects.filter(slug="odd-money").exists()
