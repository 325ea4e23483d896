"""An end user erases their account: personal data gone, financial records kept under a
pseudonym, the books still balanced."""

from __future__ import annotations

import io
import json

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import schema_context

from compliance.licensee.models import PrivacyRequest
from identity.models import ConsentRecord, User
from tenant_apps.advisors.models import Favorite
from tenant_apps.calls import services as call_services
from tenant_apps.calls.models import Call, Review
from tenant_apps.notifications.models import Device, PushLog
from tenant_apps.payments.models import TopUp
from tenant_apps.pricing.services import policy_update
from tenant_apps.wallets.models import AccountKind, LedgerEntry, LedgerTransaction
from tenant_apps.wallets.services import Leg, account_for, ledger_post
from tests.compliance.conftest import topup_paid
from tests.factories import PASSWORD
from tests.tenant_apps.calls.conftest import make_advisor, make_caller

pytestmark = pytest.mark.django_db

EMAIL = "leaving@example.test"


def _login(api, email, password=PASSWORD, slug="alpha"):
    return api(slug).post("/api/v1/auth/token", {"email": email, "password": password})


def _token(api, email, slug="alpha"):
    response = _login(api, email, slug=slug)
    assert response.status_code == 200, response.content
    return response.json()["access"]


def _erase(api, token, password=PASSWORD, slug="alpha"):
    body = {} if password is None else {"password": password}
    return api(slug).delete("/api/v1/me", body, token=token)


def _ledger_verify_clean() -> str:
    out = io.StringIO()
    call_command("ledger", "verify", "--licensee", "alpha", stdout=out)  # raises on a breach
    return out.getvalue()


@pytest.fixture
def leaving(alpha, livekit):
    """A caller with history: a finished call with a review, a top-up, a device, a push, a
    favourite, marketing consent, a failed sign-in attempt — and 3 000 of credit: 1 000
    paid by card, 2 000 of goodwill."""
    with schema_context("alpha"):
        connection.tenant = alpha
        advisor = make_advisor("luna.erasure@example.test", display_name="Luna")
        me = make_caller(EMAIL)
        call = call_services.call_request(caller=me, advisor_id=advisor.pk)
        call_services.call_hangup(user=me, call_id=call.pk)
        Review.objects.create(
            call=call, caller=me, advisor=advisor, rating=4, comment="Lovely, my name is Jo"
        )
        topup_paid(me, 1_000, "pi_erasure_1")
        Device.objects.create(user=me, token="leaving-phone", platform="android")
        PushLog.objects.create(user=me, kind="call_missed", status="sent", devices=1)
        Favorite.objects.create(user=me, advisor=advisor)
        ConsentRecord.objects.create(user=me, purpose="marketing", granted=True)
        AccessAttempt.objects.create(
            username=EMAIL, ip_address="10.0.0.1", user_agent="test", failures_since_start=1
        )
    return {"me": me, "advisor": advisor, "call": call}


def test_erasure_keeps_financial_records_under_a_pseudonym_and_the_ledger_clean(
    api, leaving, alpha
):
    me = leaving["me"]
    with schema_context("alpha"):
        entries_before = LedgerEntry.objects.filter(account__owner_id=me.pk).count()
        promo_before = account_for(kind=AccountKind.PROMO).balance_minor
    response = _erase(api, _token(api, EMAIL))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["credit"] == {
        "policy": "refund",  # the default
        "total": 3_000,
        "refund_due": 1_000,  # what was paid by card
        "forfeited": 0,
        "promotional_returned": 2_000,  # goodwill goes back where it came from
        "currency": "EUR",
    }
    assert "refunded" in body["detail"]

    with schema_context("alpha"):
        erased = User.objects.get(pk=me.pk)
        assert erased.email.startswith("erased-") and erased.email.endswith("@invalid")
        assert EMAIL.split("@")[0] not in erased.email
        assert erased.display_name == "Former user" and erased.birth_date is None
        assert not erased.is_active and not erased.has_usable_password()
        assert erased.erased_at is not None
        # personal data gone
        assert not Device.objects.filter(user=me).exists()
        assert not PushLog.objects.filter(user=me).exists()
        assert not Favorite.objects.filter(user=me).exists()
        assert not AccessAttempt.objects.filter(username=EMAIL).exists()
        review = Review.objects.get(caller=me)
        assert review.comment == "" and review.rating == 4
        # consent history kept, ending in a withdrawal
        history = list(ConsentRecord.objects.filter(user=me).order_by("recorded_at", "id"))
        assert [c.granted for c in history] == [True, False]
        assert history[-1].source == "erasure"
        # financial records kept, under the pseudonym
        assert Call.objects.get(pk=leaving["call"].pk).caller_id == me.pk
        topup = TopUp.objects.get(user=me)
        assert topup.amount_minor == 1_000 and topup.client_secret == ""
        # every entry kept, plus the one settling the credit
        assert LedgerEntry.objects.filter(account__owner_id=me.pk).count() == entries_before + 1
        # the refund policy leaves the paid credit in the closed wallet, to be refunded
        assert account_for(kind=AccountKind.WALLET, owner_id=me.pk).balance_minor == 1_000
        assert account_for(kind=AccountKind.PROMO).balance_minor == promo_before + 2_000
        logged = PrivacyRequest.objects.get(subject=me, type="erasure")
        assert logged.channel == "self_service" and logged.outcome == "fulfilled"
        assert logged.completed_at is not None and "To refund: €10.00" in logged.notes
        assert logged.subject_email == erased.email
        text = json.dumps(
            list(PrivacyRequest.objects.filter(subject=me).values("notes", "subject_email"))
        )
        assert EMAIL not in text
    assert "alpha: ledger clean" in _ledger_verify_clean()


def test_a_forfeit_policy_books_the_credit_to_forfeited_balances_once(api, leaving, alpha):
    with schema_context("alpha"):
        connection.tenant = alpha
        policy_update(closed_account_balance="forfeit")
        forfeited_before = account_for(kind=AccountKind.FORFEITED).balance_minor
    response = _erase(api, _token(api, EMAIL))
    assert response.status_code == 200, response.content
    credit = response.json()["credit"]
    assert credit["policy"] == "forfeit"
    assert (credit["forfeited"], credit["refund_due"], credit["promotional_returned"]) == (
        1_000,
        0,
        2_000,
    )
    me = leaving["me"]
    with schema_context("alpha"):
        assert account_for(kind=AccountKind.WALLET, owner_id=me.pk).balance_minor == 0
        forfeited = account_for(kind=AccountKind.FORFEITED).balance_minor
        assert forfeited == forfeited_before + 1_000
        posted = LedgerTransaction.objects.get(idempotency_key=f"erasure:{me.pk}:credit")
        assert posted.kind == "account_closed"
        assert posted.metadata == {"user_id": me.pk, "policy": "forfeit", "refund_due": 0}
        assert sorted(e.amount_minor for e in posted.entries.all()) == [-3_000, 1_000, 2_000]
    _ledger_verify_clean()


def test_after_erasure_the_account_is_closed_and_the_address_can_register_afresh(api, leaving):
    pair = _login(api, EMAIL).json()
    assert _erase(api, pair["access"]).status_code == 200
    # signed out everywhere: the password, the access token and the refresh token are dead
    assert _login(api, EMAIL).status_code == 401
    assert api("alpha").get("/api/v1/me", token=pair["access"]).status_code == 401
    refreshed = api("alpha").post("/api/v1/auth/token/refresh", {"refresh": pair["refresh"]})
    assert refreshed.status_code == 401
    # nothing ties the address to the old account any more: it may open a new one
    registered = api("alpha").post(
        "/api/v1/auth/register",
        {
            "email": EMAIL,
            "password": PASSWORD,
            "display_name": "New me",
            "birth_date": "1990-01-01",
        },
    )
    assert registered.status_code == 201, registered.content
    assert registered.json()["user"]["id"] != leaving["me"].pk
    data = api("alpha").get("/api/v1/me/export", token=registered.json()["access"]).json()
    assert data["calls"] == [] and data["devices"] == [] and data["reviews"] == []
    assert data["topups"] == [] and data["favorites"] == [] and data["push_log"] == []
    assert data["wallet"]["available"] == 0 and data["wallet"]["lines"] == []
    assert [c["granted"] for c in data["consents"]] == []


def test_the_password_is_required_and_checked(api, leaving):
    token = _token(api, EMAIL)
    missing = _erase(api, token, password=None)
    assert missing.status_code == 422 and missing.json()["field"] == "password"
    empty = _erase(api, token, password="")
    assert empty.status_code == 403 and empty.json()["field"] == "password"
    wrong = _erase(api, token, password="Not-My-Password-1")
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "password_incorrect" and wrong.json()["field"] == "password"
    assert _login(api, EMAIL).status_code == 200  # nothing happened
    assert api("alpha").delete("/api/v1/me", {"password": PASSWORD}).status_code == 401


def test_erasure_is_refused_while_a_call_is_open(api, leaving, alpha):
    with schema_context("alpha"):
        connection.tenant = alpha
        call_services.call_request(caller=leaving["me"], advisor_id=leaving["advisor"].pk)
    response = _erase(api, _token(api, EMAIL))
    assert response.status_code == 409
    assert response.json()["code"] == "call_open"
    assert "call" in response.json()["detail"]
    # the advisor in that call cannot leave either
    advisor_response = _erase(api, _token(api, "luna.erasure@example.test"))
    assert advisor_response.json()["code"] == "call_open"
    with schema_context("alpha"):
        assert User.objects.get(pk=leaving["me"].pk).email == EMAIL
        assert Device.objects.filter(user=leaving["me"]).exists()
        assert not PrivacyRequest.objects.filter(type="erasure").exists()


def test_erasure_is_refused_while_money_is_owed(api, leaving, alpha):
    me = leaving["me"]
    with schema_context("alpha"):
        connection.tenant = alpha
        ledger_post(
            idempotency_key=f"test-debt:{me.pk}",
            kind="dispute",
            description="a lost dispute left a debt",
            legs=[
                Leg(account_for(kind=AccountKind.DEBT, owner_id=me.pk), -700),
                Leg(account_for(kind=AccountKind.REFUNDS), 700),
            ],
        )
    response = _erase(api, _token(api, EMAIL))
    assert response.status_code == 409
    assert response.json()["code"] == "money_owed"
    assert "€7.00" in response.json()["detail"] or "7.00" in response.json()["detail"]
    assert _login(api, EMAIL).status_code == 200


def test_an_advisor_with_unpaid_earnings_is_refused_and_the_owner_cannot_erase(
    api, leaving, alpha, make_user
):
    advisor_user_id = leaving["advisor"].user_id
    with schema_context("alpha"):
        connection.tenant = alpha
        ledger_post(
            idempotency_key=f"test-earnings:{advisor_user_id}",
            kind="capture",
            description="earnings",
            legs=[
                Leg(account_for(kind=AccountKind.LICENSEE_REVENUE), -300),
                Leg(account_for(kind=AccountKind.ADVISOR_EARNINGS, owner_id=advisor_user_id), 300),
            ],
        )
    refused = _erase(api, _token(api, "luna.erasure@example.test"))
    assert refused.status_code == 409 and refused.json()["code"] == "earnings_unpaid"
    make_user("alpha", "boss@example.test", role="owner")
    owner = _erase(api, _token(api, "boss@example.test"))
    assert owner.status_code == 409 and owner.json()["code"] == "role_not_erasable"


def test_an_advisor_without_earnings_is_erased_and_leaves_the_directory(api, leaving, alpha):
    advisor = leaving["advisor"]
    response = _erase(api, _token(api, "luna.erasure@example.test"))
    assert response.status_code == 200, response.content
    with schema_context("alpha"):
        advisor.refresh_from_db()
        assert advisor.display_name == "Former user" and advisor.bio == ""
        assert advisor.suspended and advisor.status == "offline"
        assert not Favorite.objects.filter(advisor=advisor).exists()
        assert Call.objects.filter(advisor=advisor).count() == 1  # the charge record stays
    listed = api("alpha").get("/api/v1/advisors").json()["results"]
    assert advisor.pk not in [a["id"] for a in listed]
    _ledger_verify_clean()


def test_erasure_at_one_licensee_leaves_the_same_address_at_another_alone(api, leaving, make_user):
    make_user("beta", EMAIL)
    alpha_token = _token(api, EMAIL)
    assert _erase(api, alpha_token, slug="beta").status_code == 401  # alpha's token, beta's host
    assert _erase(api, alpha_token).status_code == 200
    assert _login(api, EMAIL, slug="beta").status_code == 200
    with schema_context("beta"):
        assert User.objects.get(email=EMAIL).is_active
        assert not PrivacyRequest.objects.exists()
