"""The nightly usage job: per licensee and day, advisors, end users, calls and talk minutes,
counted in each licensee's schema and stored as numbers in the public schema."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from callrix.schedule import schedule
from identity.models import User
from shared_apps.billing.models import LicenseeUsage
from shared_apps.usage import metering
from tenant_apps.advisors.models import Advisor
from tenant_apps.calls.models import Call

pytestmark = pytest.mark.django_db

DAY = date(2026, 10, 14)
NOON = datetime(2026, 10, 14, 12, tzinfo=UTC)


def _person(email: str, role: str, joined: datetime = NOON - timedelta(days=30), **extra):
    return User.objects.create(email=email, role=role, date_joined=joined, **extra)


def _advisor(email: str, **extra) -> Advisor:
    user = _person(email, "advisor")
    advisor = Advisor.objects.create(
        user=user, display_name=email, rate_minor_per_minute=100, **extra
    )
    Advisor.objects.filter(pk=advisor.pk).update(created_at=NOON - timedelta(days=10))
    return advisor


def _call(caller: User, advisor: Advisor, ended_at: datetime, talk_seconds: int, **extra):
    return Call.objects.create(
        caller=caller,
        advisor=advisor,
        status=extra.pop("status", Call.Status.COMPLETED),
        rate_minor_per_minute=100,
        billing_mode="per_second",
        currency="EUR",
        ended_at=ended_at,
        talk_seconds=talk_seconds,
        **extra,
    )


@pytest.fixture
def people(alpha, beta):
    """Alpha: 2 advisors (+1 suspended), 2 active end users (+1 inactive, +1 who joined the
    next day), 2 calls that day with 125 s of talk (+ calls outside it). Beta: 1 advisor,
    1 end user, 1 call of 61 s."""
    with tenant_context(alpha):
        connection.tenant = alpha
        luna, sol = _advisor("luna@alpha.test"), _advisor("sol@alpha.test")
        _advisor("gone@alpha.test", suspended=True)
        casey = _person("casey@alpha.test", "end_user")
        _person("robin@alpha.test", "end_user")
        _person("inactive@alpha.test", "end_user", is_active=False)
        _person("tomorrow@alpha.test", "end_user", joined=NOON + timedelta(days=1))
        _call(casey, luna, NOON, 95)
        _call(casey, sol, datetime(2026, 10, 14, 23, 59, 59, tzinfo=UTC), 30)
        _call(casey, luna, datetime(2026, 10, 15, 0, 0, tzinfo=UTC), 600)  # the next day
        _call(casey, sol, NOON - timedelta(days=1), 45)  # the day before
        _call(casey, luna, NOON, 0, status=Call.Status.MISSED)
    with tenant_context(beta):
        connection.tenant = beta
        orion = _advisor("orion@beta.test")
        _call(_person("dana@beta.test", "end_user"), orion, NOON, 61)
    connection.set_schema_to_public()


def _usage(licensee) -> LicenseeUsage:
    return LicenseeUsage.objects.get(licensee=licensee, date=DAY)


def test_usage_is_counted_per_licensee_and_day(people, alpha, beta):
    result = metering.usage_collect(day=DAY)

    assert result.failed == {}
    a, b = _usage(alpha), _usage(beta)
    assert (a.advisors, a.end_users, a.calls, a.talk_seconds, a.talk_minutes) == (2, 2, 2, 125, 3)
    # Beta's numbers never include alpha's (and the other way round).
    assert (b.advisors, b.end_users, b.calls, b.talk_seconds, b.talk_minutes) == (1, 1, 1, 61, 2)


def test_collecting_a_day_again_replaces_its_numbers(people, alpha):
    metering.usage_collect(day=DAY)
    with tenant_context(alpha):
        Advisor.objects.filter(display_name="sol@alpha.test").update(suspended=True)

    metering.usage_collect(day=DAY)

    assert LicenseeUsage.objects.filter(licensee=alpha, date=DAY).count() == 1
    assert _usage(alpha).advisors == 1


def test_terminated_licensees_are_not_counted(people, alpha, beta):
    from tenants import services

    services.licensee_set_status(slug="beta", status="terminated")

    metering.usage_collect(day=DAY)

    assert not LicenseeUsage.objects.filter(licensee=beta).exists()
    assert LicenseeUsage.objects.filter(licensee=alpha).exists()


def test_the_command_collects_a_given_day(people, alpha):
    out = StringIO()

    call_command("usage", "collect", "--date", DAY.isoformat(), stdout=out)

    assert "alpha" in out.getvalue() and "beta" in out.getvalue()
    assert _usage(alpha).talk_minutes == 3
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("usage", "collect", "--date", "14/10/2026")
    tomorrow = timezone.now().date() + timedelta(days=1)
    with pytest.raises(CommandError, match="not begun"):
        call_command("usage", "collect", "--date", tomorrow.isoformat())


def test_the_usage_and_dunning_jobs_are_scheduled_daily():
    jobs = {job.actor_path: job.every_seconds for job in schedule()}

    assert jobs["shared_apps.usage.tasks.usage_collect_all"] == 86_400
    assert jobs["shared_apps.licensing.tasks.dunning_run_all"] == 86_400
