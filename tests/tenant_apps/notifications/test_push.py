"""Devices and pushes through firebase-admin, against the FCM sandbox."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import schema_context

from tenant_apps.notifications import services
from tenant_apps.notifications.models import Device, FirebaseProject, PushLog
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def caller(make_user, alpha):
    return make_user("alpha", "phone@example.test")


def _token(api, email):
    return (
        api("alpha")
        .post("/api/v1/auth/token", {"email": email, "password": PASSWORD})
        .json()["access"]
    )


def test_devices_register_and_unregister(api, caller):
    token = _token(api, "phone@example.test")
    response = api("alpha").post(
        "/api/v1/devices", {"token": "tok-1", "platform": "android"}, token=token
    )
    assert response.status_code == 201
    assert (
        api("alpha")
        .post("/api/v1/devices", {"token": "t", "platform": "fax"}, token=token)
        .json()["field"]
        == "platform"
    )
    with schema_context("alpha"):
        assert Device.objects.get().user_id == caller.pk
    assert api("alpha").delete("/api/v1/devices/tok-1", token=token).status_code == 204
    with schema_context("alpha"):
        assert not Device.objects.exists()


def test_an_urgent_push_is_a_high_priority_data_message_with_a_short_ttl(fcm, caller):
    with schema_context("alpha"):
        Device.objects.create(user=caller, token="tok-android", platform="android")
        assert (
            services.push_deliver(
                user_id=caller.pk, kind="incoming_call", data={"call_id": "7"}, urgent=True
            )
            == "sent"
        )
        assert PushLog.objects.get().status == "sent"
    message = fcm.messages(token="tok-android")[0]["message"]
    assert message["data"] == {"kind": "incoming_call", "call_id": "7"}
    assert message["android"]["priority"] == "high" and message["android"]["ttl"] == "30s"
    assert "apns" in message


def test_unregistered_tokens_are_forgotten_and_failures_never_raise(fcm, caller):
    with schema_context("alpha"):
        Device.objects.create(user=caller, token="gone", platform="ios")
        Device.objects.create(user=caller, token="fine", platform="android")
        fcm.unregister("gone")
        assert services.push_deliver(user_id=caller.pk, kind="x", data={}) == "sent"
        assert list(Device.objects.values_list("token", flat=True)) == ["fine"]
        fcm.fail_next(5)
        assert services.push_deliver(user_id=caller.pk, kind="x", data={}) == "failed"
        assert Device.objects.filter(token="fine").exists()


def test_a_licensees_own_firebase_project_is_used(api, fcm, caller, make_user):
    make_user("alpha", "admin@example.test", role="admin")
    own = fcm.create_service_account(project_id="alpha-apps")
    response = api("alpha").put(
        "/api/v1/admin/notifications/firebase",
        {"credentials": json.dumps(own)},
        token=_token(api, "admin@example.test"),
    )
    assert response.json() == {"configured": True, "project_id": "alpha-apps"}
    with schema_context("alpha"):
        assert own["private_key"] not in FirebaseProject.objects.get().credentials_encrypted
        Device.objects.create(user=caller, token="tok", platform="android")
        services.push_deliver(user_id=caller.pk, kind="x", data={})
    assert fcm.messages(project_id="alpha-apps")
    bad = api("alpha").put(
        "/api/v1/admin/notifications/firebase",
        {"credentials": "{}"},
        token=_token(api, "admin@example.test"),
    )
    assert bad.status_code == 422 and bad.json()["field"] == "credentials"


def test_devices_and_firebase_projects_stay_with_their_licensee(api, fcm, caller, make_user, beta):
    token = _token(api, "phone@example.test")
    api("alpha").post("/api/v1/devices", {"token": "alpha-phone", "platform": "ios"}, token=token)
    make_user("beta", "admin@example.test", role="admin")
    beta_admin = (
        api("beta")
        .post("/api/v1/auth/token", {"email": "admin@example.test", "password": PASSWORD})
        .json()["access"]
    )
    assert (
        api("beta")
        .get("/api/v1/admin/notifications/firebase", token=beta_admin)
        .json()["configured"]
        is False
    )
    assert (
        api("beta")
        .post("/api/v1/devices", {"token": "x", "platform": "ios"}, token=token)
        .status_code
        == 401
    )
    with schema_context("beta"):
        assert not Device.objects.exists()
