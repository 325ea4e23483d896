"""An end user downloads their own data and manages their consents."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from identity.models import ConsentRecord
from tenant_apps.calls import services as call_services
from tenant_apps.notifications.models import Device
from tests.factories import PASSWORD
from tests.tenant_apps.calls.conftest import make_advisor, make_caller

pytestmark = pytest.mark.django_db


def _token(api, email, slug="alpha"):
    return (
        api(slug)
        .post("/api/v1/auth/token", {"email": email, "password": PASSWORD})
        .json()["access"]
    )


@pytest.fixture
def people(alpha, livekit):
    with schema_context("alpha"):
        connection.tenant = alpha
        advisor = make_advisor("secret.advisor@example.test", display_name="Luna")
        me = make_caller("me@example.test")
        other = make_caller("other@example.test")
        Device.objects.create(user=me, token="my-phone", platform="android")
        call = call_services.call_request(caller=me, advisor_id=advisor.pk)
        call_services.call_hangup(user=me, call_id=call.pk)
        theirs = call_services.call_request(caller=other, advisor_id=advisor.pk)
    return {"me": me, "other": other, "my_call": call, "their_call": theirs}


def test_the_export_holds_the_callers_data_and_nobody_elses(api, people):
    response = api("alpha").get("/api/v1/me/export", token=_token(api, "me@example.test"))
    assert response.status_code == 200
    data = response.json()
    assert data["profile"]["email"] == "me@example.test"
    assert data["controller"] == "Alpha Advice"
    assert [c["id"] for c in data["calls"]] == [people["my_call"].pk]
    assert data["calls"][0]["advisor"] == "Luna"
    assert data["devices"][0]["token"] == "my-phone"
    assert data["wallet"]["available"] == 2_000 and data["wallet"]["lines"]
    text = json.dumps(data)
    assert "secret.advisor@example.test" not in text  # the advisor's name, not their e-mail
    assert "other@example.test" not in text
    assert str(people["their_call"].pk) not in [str(c["id"]) for c in data["calls"]]


def test_the_export_needs_the_callers_own_token_at_its_own_licensee(api, people, beta):
    assert api("alpha").get("/api/v1/me/export").status_code == 401
    token = _token(api, "me@example.test")
    assert api("beta").get("/api/v1/me/export", token=token).status_code == 401


def test_marketing_consent_is_granted_and_withdrawn_with_history(api, people):
    token = _token(api, "me@example.test")
    assert api("alpha").get("/api/v1/me/consents", token=token).json()["marketing"] is False
    granted = api("alpha").put("/api/v1/me/consents", {"marketing": True}, token=token).json()
    assert granted["marketing"] is True
    again = api("alpha").put("/api/v1/me/consents", {"marketing": True}, token=token).json()
    assert len(again["history"]) == 1  # an unchanged choice records nothing new
    withdrawn = api("alpha").put("/api/v1/me/consents", {"marketing": False}, token=token)
    body = withdrawn.json()
    assert body["marketing"] is False
    assert [h["granted"] for h in body["history"]] == [False, True]  # newest first
    assert api("alpha").get("/api/v1/me", token=token).json()["marketing_consent"] is False
    bad = api("alpha").put("/api/v1/me/consents", {"marketing": "sometimes"}, token=token)
    assert bad.status_code == 422 and bad.json()["field"] == "marketing"
    with schema_context("alpha"):
        assert ConsentRecord.objects.filter(user=people["other"]).count() == 0
