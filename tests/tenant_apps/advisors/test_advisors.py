"""Advisors: the public directory, admins' management, the advisor's own profile, favorites."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from tenant_apps.advisors.models import Advisor
from tests.factories import PASSWORD
from tests.tenant_apps.calls.conftest import make_advisor

pytestmark = pytest.mark.django_db


def _token(api, email, slug="alpha"):
    return (
        api(slug)
        .post("/api/v1/auth/token", {"email": email, "password": PASSWORD})
        .json()["access"]
    )


@pytest.fixture
def admin(make_user):
    make_user("alpha", "admin@example.test", role="admin")


@pytest.fixture
def directory(alpha):
    with schema_context("alpha"):
        connection.tenant = alpha
        made = {
            "cheap_offline": make_advisor(
                "a@x.test", rate=100, status="offline", display_name="Ada"
            ),
            "pricey_online": make_advisor("b@x.test", rate=400, display_name="Bea"),
            "cheap_online": make_advisor("c@x.test", rate=150, display_name="Cy"),
            "busy": make_advisor("d@x.test", rate=300, status="busy", display_name="Dee"),
        }
        made["cheap_online"].categories = ["tarot"]
        made["cheap_online"].languages = ["de", "en"]
        made["cheap_online"].save()
        Advisor.objects.filter(pk=made["pricey_online"].pk).update(rating_sum=9, rating_count=2)
    return made


def test_the_directory_lists_online_first_and_sorts_and_filters(api, directory):
    names = [a["display_name"] for a in api("alpha").get("/api/v1/advisors").json()["results"]]
    assert names == ["Bea", "Cy", "Dee", "Ada"]  # online (by rating), busy, offline
    by_price = api("alpha").get("/api/v1/advisors", sort="price").json()["results"]
    assert [a["display_name"] for a in by_price] == ["Cy", "Bea", "Dee", "Ada"]
    tarot = api("alpha").get("/api/v1/advisors", category="Tarot").json()["results"]
    assert [a["display_name"] for a in tarot] == ["Cy"]
    german = api("alpha").get("/api/v1/advisors", language="de").json()["results"]
    assert [a["display_name"] for a in german] == ["Cy"]
    online = api("alpha").get("/api/v1/advisors", status="online").json()["count"]
    assert online == 2
    bea = api("alpha").get(f"/api/v1/advisors/{directory['pricey_online'].pk}").json()
    assert (bea["rate"], bea["rating"], bea["currency"]) == (400, 4.5, "EUR")
    assert api("alpha").get("/api/v1/advisors", sort="nonsense").status_code == 422


def test_one_licensees_advisors_are_invisible_at_another(api, directory, beta):
    assert api("beta").get("/api/v1/advisors").json()["count"] == 0
    response = api("beta").get(f"/api/v1/advisors/{directory['pricey_online'].pk}")
    assert response.status_code == 404


def test_admin_adds_an_advisor_who_gets_an_invitation(
    api, admin, alpha, mailoutbox, django_capture_on_commit_callbacks
):
    token = _token(api, "admin@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        response = api("alpha").post(
            "/api/v1/admin/advisors",
            {
                "email": "New.Advisor@example.test",
                "display_name": "Nova",
                "rate": 250,
                "categories": ["Astrology"],
            },
            token=token,
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["email"], body["rate"], body["status"]) == (
        "new.advisor@example.test",
        250,
        "offline",
    )
    assert body["categories"] == ["astrology"]
    assert len(mailoutbox) == 1 and "/account/set-password/" in mailoutbox[0].body
    assert api("alpha").get(f"/api/v1/advisors/{body['id']}").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "x", "display_name": "X", "rate": 200}, "email"),
        ({"email": "x@y.test", "display_name": "X", "rate": 10}, "rate"),
        ({"email": "x@y.test", "display_name": "X", "rate": 5_000}, "rate"),
        ({"email": "x@y.test", "display_name": " ", "rate": 200}, "display_name"),
        ({"email": "x@y.test", "display_name": "X", "rate": 200, "password": "123"}, "password"),
        ({"email": "x@y.test", "display_name": "X"}, "rate"),
    ],
)
def test_adding_an_advisor_with_bad_input_is_422(api, admin, body, field):
    response = api("alpha").post(
        "/api/v1/admin/advisors", body, token=_token(api, "admin@example.test")
    )
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
    with schema_context("alpha"):
        assert not Advisor.objects.exists()


def test_end_users_cannot_manage_advisors(api, make_user, directory):
    make_user("alpha", "user@example.test")
    token = _token(api, "user@example.test")
    assert api("alpha").get("/api/v1/admin/advisors", token=token).status_code == 403
    assert api("alpha").post("/api/v1/admin/advisors", {}, token=token).status_code == 403


def test_admin_suspends_an_advisor_who_disappears_from_the_directory(api, admin, directory):
    token = _token(api, "admin@example.test")
    bea = directory["pricey_online"]
    response = api("alpha").post(
        f"/api/v1/admin/advisors/{bea.pk}/suspend", {"reason": "Complaints"}, token=token
    )
    assert response.json()["suspended"] is True and response.json()["status"] == "offline"
    assert api("alpha").get(f"/api/v1/advisors/{bea.pk}").status_code == 404
    advisor_token = _token(api, "b@x.test")
    online = api("alpha").patch("/api/v1/advisor/me", {"status": "online"}, token=advisor_token)
    assert online.status_code == 422 and online.json()["field"] == "status"


def test_the_advisor_edits_their_profile_rate_and_presence_at_once(api, directory):
    token = _token(api, "a@x.test")
    response = api("alpha").patch(
        "/api/v1/advisor/me",
        {"headline": "Clear answers", "rate": 180, "status": "online", "languages": ["EN"]},
        token=token,
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["headline"], body["rate"], body["status"], body["languages"]) == (
        "Clear answers",
        180,
        "online",
        ["en"],
    )
    bad = api("alpha").patch("/api/v1/advisor/me", {"headline": "New", "rate": 1}, token=token)
    assert bad.status_code == 422
    assert api("alpha").get("/api/v1/advisor/me", token=token).json()["headline"] == (
        "Clear answers"  # nothing half-saved
    )
    busy = api("alpha").patch(
        "/api/v1/advisor/me", {"status": "offline"}, token=_token(api, "d@x.test")
    )
    assert busy.status_code == 422  # busy in a call: the platform sets it back


def test_favorites_and_a_push_when_a_favorite_comes_online_at_most_hourly(
    api, make_user, directory, django_capture_on_commit_callbacks
):
    make_user("alpha", "fan@example.test")
    fan = _token(api, "fan@example.test")
    ada = directory["cheap_offline"]
    assert api("alpha").put(f"/api/v1/advisors/{ada.pk}/favorite", {}, token=fan).status_code == 204
    listed = api("alpha").get("/api/v1/advisors", token=fan).json()["results"]
    assert [a["favorite"] for a in listed if a["id"] == ada.pk] == [True]
    assert [a["id"] for a in api("alpha").get("/api/v1/me/favorites", token=fan).json()] == [ada.pk]
    advisor = _token(api, "a@x.test")
    with django_capture_on_commit_callbacks() as pushes:
        api("alpha").patch("/api/v1/advisor/me", {"status": "online"}, token=advisor)
        api("alpha").patch("/api/v1/advisor/me", {"status": "offline"}, token=advisor)
        api("alpha").patch("/api/v1/advisor/me", {"status": "online"}, token=advisor)
    assert len(pushes) == 1  # the second time within the hour stays quiet
    assert api("alpha").delete(f"/api/v1/advisors/{ada.pk}/favorite", token=fan).status_code == 204
    assert api("alpha").get("/api/v1/me/favorites", token=fan).json() == []
