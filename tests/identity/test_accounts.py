"""Registration, profile, passwords, e-mail verification and consents."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django_tenants.utils import schema_context

from identity.models import ConsentRecord, User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _adult_birth_date() -> date:
    return date(1990, 5, 17)


def _register(api, slug="alpha", **overrides):
    body = {
        "email": "new.person@example.test",
        "password": "Lantern-Meadow-77",
        "display_name": "New Person",
        "birth_date": _adult_birth_date().isoformat(),
    }
    body.update(overrides)
    return api(slug).post("/api/v1/auth/register", body)


def test_register_creates_an_end_user_with_a_cost_12_bcrypt_hash(
    api, alpha, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _register(api)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"]["role"] == "end_user" and body["access"] and body["refresh"]
    with schema_context("alpha"):
        user = User.objects.get(email="new.person@example.test")
    assert user.password.startswith("bcrypt_sha256$$2b$12$")
    assert api("alpha").get("/api/v1/me", token=body["access"]).json()["email_verified"] is False
    assert len(mailoutbox) == 1 and "/account/verify-email/" in mailoutbox[0].body


def test_register_at_one_licensee_leaves_the_other_untouched(api, alpha, beta):
    assert _register(api).status_code == 201
    with schema_context("beta"):
        assert not User.objects.filter(email="new.person@example.test").exists()
    # The same address may open a separate account at beta.
    assert _register(api, slug="beta").status_code == 201


def test_under_18_is_refused_and_nothing_is_stored(api, alpha, mailoutbox):
    today = date.today()
    seventeen = date(today.year - 17, today.month, min(today.day, 28))
    response = _register(api, birth_date=seventeen.isoformat())
    assert response.status_code == 422
    assert response.json()["code"] == "under_age"
    assert response.json()["field"] == "birth_date"
    assert "18" in response.json()["detail"]
    with schema_context("alpha"):
        assert not User.objects.filter(email="new.person@example.test").exists()
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "12345678901234"}, "password"),
        ({"password": "new.person@example.test"}, "password"),
        ({"display_name": "   "}, "display_name"),
        ({"birth_date": "17-05-1990"}, "birth_date"),
        ({"birth_date": (date.today() + timedelta(days=1)).isoformat()}, "birth_date"),
    ],
)
def test_register_bad_input_is_422_naming_the_field(api, alpha, override, field):
    response = _register(api, **override)
    assert response.status_code == 422, response.content
    assert response.json()["field"] == field
    with schema_context("alpha"):
        assert User.objects.count() == 1  # only the owner


def test_register_twice_is_409(api, alpha):
    assert _register(api).status_code == 201
    response = _register(api, email="NEW.person@example.test")
    assert response.status_code == 409
    assert response.json()["field"] == "email"


def test_marketing_consent_is_recorded_with_its_time_only_when_given(api, alpha):
    _register(api, marketing_consent=True)
    _register(api, email="quiet@example.test")
    with schema_context("alpha"):
        given = ConsentRecord.objects.get(user__email="new.person@example.test")
        assert given.granted and given.purpose == "marketing" and given.recorded_at
        assert not ConsentRecord.objects.filter(user__email="quiet@example.test").exists()


def test_email_verification_link_confirms_the_address(
    api, alpha, mailoutbox, host_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        token = _register(api).json()["access"]
    link_token = mailoutbox[0].body.split("/account/verify-email/")[1].split("/")[0]
    assert api("beta").post("/api/v1/auth/verify-email", {"token": link_token}).status_code in (
        400,
        404,
    )
    response = api("alpha").post("/api/v1/auth/verify-email", {"token": link_token})
    assert response.status_code == 200
    assert api("alpha").get("/api/v1/me", token=token).json()["email_verified"] is True
    page = host_client("alpha.localhost").get(f"/account/verify-email/{link_token}/")
    assert page.status_code == 200


def test_patch_me_changes_display_name(api, alpha, make_user):
    make_user("alpha", "pat@example.test")
    token = (
        api("alpha")
        .post("/api/v1/auth/token", {"email": "pat@example.test", "password": PASSWORD})
        .json()["access"]
    )
    response = api("alpha").patch("/api/v1/me", {"display_name": "Pat Q."}, token=token)
    assert response.status_code == 200 and response.json()["display_name"] == "Pat Q."


def test_password_change_needs_the_old_password_and_changes_nothing_when_wrong(
    api, alpha, make_user
):
    make_user("alpha", "pat@example.test", display_name="Pat")
    pair = (
        api("alpha")
        .post("/api/v1/auth/token", {"email": "pat@example.test", "password": PASSWORD})
        .json()
    )
    wrong = api("alpha").patch(
        "/api/v1/me",
        {
            "display_name": "Changed",
            "old_password": "wrong-one",
            "new_password": "Brand-New-Pass-9",
        },
        token=pair["access"],
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "old_password"
    with schema_context("alpha"):
        assert User.objects.get(email="pat@example.test").display_name == "Pat"

    ok = api("alpha").patch(
        "/api/v1/me",
        {"old_password": PASSWORD, "new_password": "Brand-New-Pass-9"},
        token=pair["access"],
    )
    assert ok.status_code == 200
    with schema_context("alpha"):
        assert User.objects.get(email="pat@example.test").check_password("Brand-New-Pass-9")
    # Other sessions are signed out.
    refresh = api("alpha").post("/api/v1/auth/token/refresh", {"refresh": pair["refresh"]})
    assert refresh.status_code == 401


def test_password_reset_answers_the_same_whether_or_not_the_account_exists(
    api, alpha, make_user, mailoutbox
):
    make_user("alpha", "known@example.test")
    known = api("alpha").post("/api/v1/auth/password-reset", {"email": "known@example.test"})
    unknown = api("alpha").post("/api/v1/auth/password-reset", {"email": "ghost@example.test"})
    malformed = api("alpha").post("/api/v1/auth/password-reset", {"email": "ghost"})
    assert known.status_code == unknown.status_code == malformed.status_code == 202
    assert known.json() == unknown.json() == malformed.json()
    assert [m.to for m in mailoutbox] == [["known@example.test"]]
    assert "Alpha Advice" in mailoutbox[0].subject


def test_password_reset_confirm_sets_the_password_once_and_only_at_home(
    api, alpha, beta, make_user, mailoutbox
):
    make_user("alpha", "known@example.test")
    make_user("beta", "known@example.test")
    api("alpha").post("/api/v1/auth/password-reset", {"email": "known@example.test"})
    uid, token = mailoutbox[0].body.split("/account/set-password/")[1].split("/")[:2]
    body = {"uid": uid, "token": token, "new_password": "Orchard-Lamp-5150"}
    assert api("beta").post("/api/v1/auth/password-reset/confirm", body).status_code == 400
    assert api("alpha").post("/api/v1/auth/password-reset/confirm", body).status_code == 200
    assert api("alpha").post("/api/v1/auth/password-reset/confirm", body).status_code == 400
    with schema_context("alpha"):
        assert User.objects.get(email="known@example.test").check_password("Orchard-Lamp-5150")
    with schema_context("beta"):
        assert User.objects.get(email="known@example.test").check_password(PASSWORD)


def test_an_older_hash_is_upgraded_to_bcrypt_12_on_login(api, alpha):
    with schema_context("alpha"):
        User.objects.create(
            email="legacy@example.test",
            password=make_password(PASSWORD, hasher="pbkdf2_sha256"),
        )
    assert (
        api("alpha")
        .post("/api/v1/auth/token", {"email": "legacy@example.test", "password": PASSWORD})
        .status_code
        == 200
    )
    with schema_context("alpha"):
        upgraded = User.objects.get(email="legacy@example.test").password
    assert upgraded.startswith("bcrypt_sha256$$2b$12$")


def test_a_tenant_account_is_never_deleted_through_the_orm(alpha, make_user):
    """Its delete would follow relations into public tables (the staff admin's log) for the
    public user with the same id; tenant accounts are erased instead."""
    from django.contrib.admin.models import ADDITION, LogEntry

    from identity.models import AccountDeletionRefused

    staff = make_user("public", "staff@callrix.test", role="staff", is_staff=True)
    LogEntry.objects.log_action(
        user_id=staff.pk, content_type_id=None, object_id="1", object_repr="x", action_flag=ADDITION
    )
    with schema_context("alpha"):
        same_id = User.objects.filter(pk=staff.pk).first() or make_user(
            "alpha", "tenant@example.test"
        )
        with pytest.raises(AccountDeletionRefused):
            same_id.delete()
        with pytest.raises(AccountDeletionRefused):
            User.objects.filter(pk=same_id.pk).delete()
    assert LogEntry.objects.filter(user_id=staff.pk).exists()
