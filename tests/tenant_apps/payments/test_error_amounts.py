"""The API's refusals that name an amount say it as the reader reads money: in their language
(the language cookie, else the licensee's default) with the licensee's brand
(kernel.formatting), not a fixed "€5.00" in English."""

from __future__ import annotations

import pytest
from django.conf import settings

from branding import services as brand_services
from branding.selectors import brand_cache

pytestmark = pytest.mark.django_db


def _too_small(api, token, language: str | None, slug: str = "alpha"):
    client = api(slug)
    if language:
        client.client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.post("/api/v1/wallet/topups", {"amount": 100}, token=token)


def test_a_refused_top_up_names_the_minimum_in_the_readers_language(api, tokens):
    english = _too_small(api, tokens["caller"], "en")
    assert english.status_code == 422
    assert english.json()["detail"] == "The smallest top-up is €5.00."
    german = _too_small(api, tokens["caller"], "de")
    assert german.status_code == 422
    assert german.json() == {
        "detail": "Die kleinste Aufladung beträgt 5,00\xa0€.",
        "code": german.json()["code"],
        "field": "amount",
    }


def test_a_licensee_that_shows_currency_codes_gets_codes_in_its_errors(api, tokens, alpha):
    brand_services.brand_update(licensee=alpha, currency_display="code", default_language="de")
    brand_cache.invalidate()
    try:
        refused = _too_small(api, tokens["caller"], None)  # the licensee's default: German
        assert refused.json()["detail"] == "Die kleinste Aufladung beträgt 5,00 EUR."
    finally:
        brand_cache.invalidate()


def test_another_licensees_token_gets_no_amount_of_alphas(api, tokens, beta):
    refused = _too_small(api, tokens["caller"], "de", slug="beta")
    assert refused.status_code == 401 and "5,00" not in refused.content.decode()
