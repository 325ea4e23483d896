"""A plan change applies from its effective moment: the fee a call pays is the one in force
when the call started; calls settled before are never rewritten."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from shared_apps.billing import selectors as billing_selectors
from shared_apps.billing import services as billing_services
from shared_apps.billing.errors import PlanUnavailable
from shared_apps.billing.models import LicenseeTerms, Plan
from shared_apps.licensing.lifecycle import licensee_plan_change
from tenant_apps.calls import services as call_services
from tenant_apps.calls.models import Call
from tenant_apps.calls.services.billing import call_history_record
from tenant_apps.pricing.selectors import policy_get
from tenant_apps.wallets.selectors import ledger_verify
from tests.tenant_apps.calls.conftest import clock, make_advisor, make_caller  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def plans():
    starter = Plan.objects.create(
        code="t-starter", name="Starter", monthly_fee_minor=4_900, revenue_share_bps=1_000
    )
    growth = Plan.objects.create(
        code="t-growth", name="Growth", monthly_fee_minor=9_900, revenue_share_bps=2_500
    )
    return starter, growth


def _deliver_latest(livekit, room: str, licensee) -> None:
    body, authorization = livekit.signed_event(livekit.events(room)[-1]["id"])
    response = Client(HTTP_HOST="localhost").post(
        "/webhooks/livekit",
        body,
        content_type="application/webhook+json",
        HTTP_AUTHORIZATION=authorization,
    )
    assert response.status_code == 200, response.content
    connection.set_tenant(licensee)


def test_a_call_pays_the_fee_in_force_when_it_started(alpha, livekit, clock, plans):  # noqa: F811
    starter, growth = plans
    billing_services.terms_record(licensee_id=alpha.pk, plan=starter, reason="signup")
    clock.advance(1)
    with schema_context("alpha"):
        connection.tenant = alpha
        advisor = make_advisor("luna@alpha.test", rate=600)
        caller = make_caller("casey@alpha.test", credit_minor=10_000)
        policy = policy_get()
        policy.intro_free_seconds = 0
        policy.save()
        before = call_history_record(caller=caller, advisor=advisor, talk_seconds=60)
        assert (before.cost_minor, before.callrix_minor) == (600, 60)

        # A call under way when the plan changes ...
        running = call_services.call_request(caller=caller, advisor_id=advisor.pk)
        call_services.call_accept(user=advisor.user, call_id=running.pk)
        running.refresh_from_db()
        for user_id in (caller.pk, advisor.user_id):
            livekit.join(running.room_name, call_services.identity_of(user_id))
            _deliver_latest(livekit, running.room_name, alpha)
        clock.advance(30)

    licensee_plan_change(slug="alpha", plan_code="t-growth", changed_by_id=1)
    clock.advance(30)
    with schema_context("alpha"):
        connection.tenant = alpha
        call_services.call_hangup(user=caller, call_id=running.pk)
        running.refresh_from_db()
        # ... is settled under the fee it started with (10 %, not 25 %).
        assert running.cost_minor == 600 and running.callrix_minor == 60

        after = call_history_record(caller=caller, advisor=advisor, talk_seconds=60)
        assert after.callrix_minor == 150  # Growth's 25 %
        # Earlier calls are never rewritten.
        assert Call.objects.get(pk=before.pk).callrix_minor == 60
        # The licensee's pricing shows the fee now in force.
        assert policy_get().callrix_fee_bps == 2_500
        assert ledger_verify() == []


def test_the_history_answers_for_any_moment(alpha, clock, plans):  # noqa: F811
    starter, growth = plans
    first = billing_services.terms_record(licensee_id=alpha.pk, plan=starter, reason="signup")
    clock.advance(60)
    second = licensee_plan_change(slug="alpha", plan_code="t-growth")
    assert billing_selectors.licensee_terms_at(alpha.pk, first.effective_from).plan_code == (
        "t-starter"
    )
    assert billing_selectors.licensee_terms_at(alpha.pk, second.effective_from).plan_code == (
        "t-growth"
    )
    assert billing_selectors.licensee_terms_at(alpha.pk, clock.advance(-3_600)) is None
    assert list(LicenseeTerms.objects.filter(licensee=alpha).values_list("reason", flat=True)) == [
        "signup",
        "plan_change",
    ]


def test_staff_editing_a_plans_fee_applies_from_then_to_its_licensees(alpha, beta, plans):
    starter, _ = plans
    billing_services.terms_record(licensee_id=alpha.pk, plan=starter, reason="signup")
    from shared_apps.billing.models import Subscription

    Subscription.objects.create(plan=starter, slug="alpha", company="A", licensee=alpha)
    starter.revenue_share_bps = 1_200
    starter.save()
    assert billing_services.plan_terms_changed(plan=starter, changed_by_id=7) == [alpha.pk]
    from django.utils import timezone

    terms = billing_selectors.licensee_terms_at(alpha.pk, timezone.now())
    assert terms is not None and terms.revenue_share_bps == 1_200
    assert billing_selectors.licensee_terms_at(beta.pk, timezone.now()) is None


def test_a_plan_in_another_currency_or_unknown_is_refused(alpha, plans):
    Plan.objects.create(code="t-yen", name="Yen", monthly_fee_minor=5_000, currency="JPY")
    with pytest.raises(PlanUnavailable):
        licensee_plan_change(slug="alpha", plan_code="t-yen")
    with pytest.raises(PlanUnavailable):
        licensee_plan_change(slug="alpha", plan_code="nope")
    assert not LicenseeTerms.objects.filter(licensee=alpha).exists()


def test_staff_move_a_licensee_to_another_plan_in_the_admin(alpha, plans, make_user, host_client):
    from django.contrib.admin.models import LogEntry
    from django.utils import timezone

    from tests.factories import PASSWORD

    make_user("public", "staff@callrix.test", role="staff", is_staff=True, is_superuser=True)
    staff = host_client("localhost")
    staff.post("/admin/login/", {"username": "staff@callrix.test", "password": PASSWORD})
    response = staff.post(
        "/admin/tenants/licensee/",
        {"action": "change_plan", "_selected_action": [alpha.pk], "plan": "t-growth"},
    )
    assert response.status_code == 302
    terms = billing_selectors.licensee_terms_at(alpha.pk, timezone.now())
    assert terms is not None and (terms.plan_code, terms.revenue_share_bps) == ("t-growth", 2_500)
    row = LicenseeTerms.objects.get(licensee=alpha)
    assert row.changed_by_id is not None and row.reason == "plan_change"
    assert LogEntry.objects.filter(object_id=str(alpha.pk)).exists()
    assert staff.get("/admin/billing/licenseeterms/").status_code == 200
