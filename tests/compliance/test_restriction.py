"""Restriction (GDPR Art. 18) and objection (Art. 21): the person's flags stop marketing."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from compliance.licensee.models import PrivacyRequest
from identity.models import User
from tenant_apps.advisors.models import Favorite
from tenant_apps.notifications import services as push_services
from tenant_apps.notifications.models import Device, PushLog
from tests.factories import PASSWORD
from tests.tenant_apps.calls.conftest import make_advisor

pytestmark = pytest.mark.django_db


def _token(api, email, slug="alpha"):
    response = api(slug).post("/api/v1/auth/token", {"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.content
    return response.json()["access"]


def test_the_person_sets_restriction_and_objections_and_each_change_is_logged(api, make_user):
    me = make_user("alpha", "careful@example.test")
    token = _token(api, "careful@example.test")
    assert api("alpha").get("/api/v1/me/processing", token=token).json() == {
        "processing_restricted": False,
        "objects_to_marketing": False,
        "objects_to_analytics": False,
    }
    changed = api("alpha").patch(
        "/api/v1/me/processing",
        {"objects_to_marketing": True, "processing_restricted": True},
        token=token,
    )
    assert changed.status_code == 200
    assert changed.json() == {
        "processing_restricted": True,
        "objects_to_marketing": True,
        "objects_to_analytics": False,
    }
    # unchanged values log nothing new; lifting the restriction is logged too
    api("alpha").patch("/api/v1/me/processing", {"objects_to_marketing": True}, token=token)
    api("alpha").patch("/api/v1/me/processing", {"processing_restricted": False}, token=token)
    bad = api("alpha").patch(
        "/api/v1/me/processing", {"objects_to_analytics": "maybe"}, token=token
    )
    assert bad.status_code == 422 and bad.json()["field"] == "objects_to_analytics"
    with schema_context("alpha"):
        user = User.objects.get(pk=me.pk)
        assert user.objects_to_marketing and not user.processing_restricted
        logged = list(
            PrivacyRequest.objects.filter(subject=me).order_by("id").values_list("type", "notes")
        )
        assert [t for t, _ in logged] == ["restriction", "objection", "restriction"]
        assert "Lifted" in logged[-1][1]
        assert all(
            r.outcome == "fulfilled" and r.channel == "self_service"
            for r in PrivacyRequest.objects.filter(subject=me)
        )
    assert api("alpha").get("/api/v1/me/processing").status_code == 401
    exported = api("alpha").get("/api/v1/me/export", token=token).json()
    assert exported["processing"]["objects_to_marketing"] is True


@pytest.fixture
def fans(alpha, make_user):
    with schema_context("alpha"):
        connection.tenant = alpha
        advisor = make_advisor("star@example.test", status="offline", display_name="Star")
    keen = make_user("alpha", "keen@example.test")
    objector = make_user("alpha", "objector@example.test", objects_to_marketing=True)
    restricted = make_user("alpha", "restricted@example.test", processing_restricted=True)
    with schema_context("alpha"):
        for fan in (keen, objector, restricted):
            Favorite.objects.create(user=fan, advisor=advisor)
            Device.objects.create(user=fan, token=f"phone-of-{fan.pk}", platform="android")
    return {"advisor": advisor, "keen": keen, "objector": objector, "restricted": restricted}


def test_a_favourite_coming_online_is_pushed_only_to_fans_who_did_not_object(
    api, fans, fcm, django_capture_on_commit_callbacks
):
    advisor_token = _token(api, "star@example.test")
    with django_capture_on_commit_callbacks() as queued:
        response = api("alpha").patch(
            "/api/v1/advisor/me", {"status": "online"}, token=advisor_token
        )
    assert response.status_code == 200, response.content
    assert len(queued) == 1  # the keen fan only

    # Delivery checks again (an objection may arrive after queuing): the FCM sandbox gets
    # the keen fan's push and nothing for the others.
    with schema_context("alpha"):
        outcomes = {
            name: push_services.push_deliver(
                user_id=fans[name].pk,
                kind="favorite_online",
                data={"advisor_id": str(fans["advisor"].pk)},
                title="Star is online",
            )
            for name in ("keen", "objector", "restricted")
        }
        assert outcomes == {"keen": "sent", "objector": "suppressed", "restricted": "suppressed"}
        assert list(PushLog.objects.values_list("user_id", flat=True)) == [fans["keen"].pk]
        # service pushes (not marketing) still reach the person who objected to marketing
        assert (
            push_services.push_deliver(
                user_id=fans["objector"].pk, kind="call_missed", data={"call_id": "1"}
            )
            == "sent"
        )
    assert len(fcm.messages(token=f"phone-of-{fans['keen'].pk}")) == 1
    assert fcm.messages(token=f"phone-of-{fans['restricted'].pk}") == []
    objector_messages = fcm.messages(token=f"phone-of-{fans['objector'].pk}")
    assert [m["message"]["data"]["kind"] for m in objector_messages] == ["call_missed"]


def test_objecting_after_the_push_was_queued_still_stops_it(api, fans, fcm):
    token = _token(api, "keen@example.test")
    api("alpha").patch("/api/v1/me/processing", {"objects_to_marketing": True}, token=token)
    with schema_context("alpha"):
        status = push_services.push_deliver(
            user_id=fans["keen"].pk, kind="favorite_online", data={"advisor_id": "1"}
        )
    assert status == "suppressed"
    assert fcm.messages(token=f"phone-of-{fans['keen'].pk}") == []
