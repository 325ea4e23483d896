"""Dashboard tests: signed-in session clients per licensee host and role, and paid calls
played through the real call services and the LiveKit sandbox."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tenant_apps.calls import services as call_services
from tests.tenant_apps.calls.conftest import clock  # noqa: F401  (shared fixture)


@pytest.fixture
def signed_in(host_client, make_user):
    """signed_in("alpha", "admin") -> a Client on alpha's host with a session of a new user of
    that role (its User is `client.user`)."""

    def make(slug: str, role: str = "admin", email: str | None = None):
        user = make_user(slug, email or f"{role}@{slug}.example.test", role=role)
        client = host_client(f"{slug}.localhost")
        with schema_context(slug):
            client.force_login(user)
        client.user = user
        return client

    return make


def call_played(*, licensee, livekit, caller, advisor, timer, talk_seconds: int):
    """A call requested, accepted, talked for `talk_seconds` and hung up: settled by the real
    services, with the parties' presence coming from the LiveKit sandbox's events."""
    with schema_context(licensee.schema_name):
        connection.tenant = licensee
        call = call_services.call_request(caller=caller, advisor_id=advisor.pk)
        call_services.call_accept(user=advisor.user, call_id=call.pk)
        call.refresh_from_db()
        for identity in (
            call_services.identity_of(caller.pk),
            call_services.identity_of(advisor.user_id),
        ):
            livekit.join(call.room_name, identity)
            body, authorization = livekit.signed_event(livekit.events(call.room_name)[-1]["id"])
            delivered = Client(HTTP_HOST="localhost").post(
                "/webhooks/livekit",
                body,
                content_type="application/webhook+json",
                HTTP_AUTHORIZATION=authorization,
            )
            assert delivered.status_code == 200, delivered.content
            connection.set_tenant(licensee)  # the webhook went to the public host
        timer.advance(talk_seconds)
        return call_services.call_hangup(user=caller, call_id=call.pk)
