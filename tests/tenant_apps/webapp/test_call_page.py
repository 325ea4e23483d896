"""The call page after the call: the receipt says "Cost", not "Cost so far", and a call too
short to rate says so instead of showing nothing."""

from __future__ import annotations

import pytest
from django.db import connection

from tenant_apps.calls import services

pytestmark = pytest.mark.django_db


def _played(world, clock, seconds: int) -> int:
    call = services.call_request(caller=world.caller, advisor_id=world.advisor.pk)
    services.call_accept(user=world.advisor.user, call_id=call.pk)
    call.refresh_from_db()
    world.both_join(call.room_name)
    clock.advance(seconds)
    services.call_hangup(user=world.caller, call_id=call.pk)
    return call.pk


def _page(world, signed_in, call_id: int, language: str = "en") -> str:
    client = signed_in("alpha", world.caller)
    client.cookies["language"] = language
    page = client.get(f"/calls/{call_id}/")
    connection.set_tenant(world.licensee)
    assert page.status_code == 200
    return page.content.decode()


def test_a_short_call_says_why_it_cannot_be_rated(world, clock, signed_in):
    page = _page(world, signed_in, _played(world, clock, 30))
    assert "Calls shorter than 60 seconds cannot be rated." in page
    assert "Rate this call" not in page and "data-review-note" in page
    assert "Cost so far" not in page and ">Cost<" in page
    german = _page(world, signed_in, _played(world, clock, 20), "de")
    assert "Anrufe unter 60 Sekunden können nicht bewertet werden." in german


def test_a_long_enough_call_offers_the_rating_form(world, clock, signed_in):
    page = _page(world, signed_in, _played(world, clock, 75))
    assert "Rate this call" in page and "data-review-note" not in page
