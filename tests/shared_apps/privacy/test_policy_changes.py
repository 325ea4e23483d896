"""Versions of Callrix's privacy policy: a material change is e-mailed to every licensee
account holder (and nobody else) by a job queued at publishing, at least 30 days before it
takes effect (policy §12)."""

from __future__ import annotations

import io
from datetime import timedelta

import dramatiq
import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.test import TestCase
from django.utils import timezone
from django_tenants.utils import schema_context
from dramatiq import Worker

from identity.models import User
from shared_apps.accounts.models import AccountHolder
from shared_apps.privacy import services
from shared_apps.privacy.errors import EffectiveTooSoon, PolicyAlreadyPublished
from shared_apps.privacy.models import PolicyChangeNotice, PolicyVersion
from tests.factories import PASSWORD, worker_stop


def _holder(email: str, licensee=None) -> AccountHolder:
    with schema_context("public"):
        user = User.objects.create_user(email, None, role=User.Role.ACCOUNT_HOLDER)
        return AccountHolder.objects.create(
            user=user,
            licensee=licensee,
            full_name=f"Holder {email}",
            company="Company",
            billing_line1="1 Street",
            billing_city="Limassol",
            billing_postal_code="3036",
            billing_country="CY",
        )


def _in(days: int):
    return timezone.now().date() + timedelta(days=days)


@pytest.mark.django_db
def test_a_material_change_needs_30_days_notice():
    with pytest.raises(EffectiveTooSoon) as refused:
        services.policy_publish(
            version="2027.1", effective_on=_in(29), summary="New processor", material=True
        )
    assert refused.value.field == "effective_on"
    assert f"{_in(30):%Y-%m-%d} at the earliest" in refused.value.detail
    assert not PolicyVersion.objects.filter(version="2027.1").exists()

    published = services.policy_publish(
        version="2027.1", effective_on=_in(30), summary="New processor", material=True
    )
    assert published.is_published and published.effective_on == _in(30)


@pytest.mark.django_db
def test_the_database_also_refuses_a_material_change_without_notice():
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.create(
            version="2027.2",
            effective_on=_in(10),
            summary="x",
            material=True,
            published_at=timezone.now(),
        )


@pytest.mark.django_db
def test_a_minor_change_may_apply_at_once_but_not_before_publishing():
    with pytest.raises(EffectiveTooSoon):
        services.policy_publish(version="1.1", effective_on=_in(-1), summary="Typo", material=False)
    minor = services.policy_publish(
        version="1.1", effective_on=_in(0), summary="Typo", material=False
    )
    assert minor.is_published


@pytest.mark.django_db
def test_notices_go_to_every_account_holder_and_only_to_them(alpha, make_user):
    holders = [_holder("ada@alpha.example", alpha), _holder("bo@signup.example")]
    make_user("public", "staff@callrix.test", role="staff", is_staff=True)
    make_user("alpha", "caller@alpha.test")  # the licensee's end user
    make_user("alpha", "owner2@alpha.test", role="owner")  # a tenant account, not a holder
    mail.outbox.clear()

    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        version = services.policy_publish(
            version="2027.3", effective_on=_in(45), summary="We add LiveKit EU.", material=True
        )
    assert len(queued) == 1  # the job is queued when publishing commits

    assert services.policy_change_notify(version_id=version.pk) == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@alpha.example", "bo@signup.example"]
    assert all(len(m.to) == 1 for m in mail.outbox)  # nobody sees another's address
    assert f"{_in(45):%d %B %Y}" in mail.outbox[0].body
    assert "We add LiveKit EU." in mail.outbox[0].body
    notices = PolicyChangeNotice.objects.filter(version=version)
    assert sorted(notices.values_list("account_holder_id", flat=True)) == sorted(
        h.pk for h in holders
    )
    # Nothing of the licensee's schema lands in the policy tables.
    stored = " ".join(str(row) for row in notices.values_list("email", flat=True))
    assert "caller@alpha.test" not in stored and "owner2@alpha.test" not in stored

    # A rerun (at-least-once delivery) tells nobody twice.
    assert services.policy_change_notify(version_id=version.pk) == 0
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_a_minor_change_e_mails_nobody(alpha):
    _holder("ada@alpha.example", alpha)
    mail.outbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        minor = services.policy_publish(
            version="2027.4", effective_on=_in(1), summary="Wording", material=False
        )
    assert queued == []
    assert services.policy_change_notify(version_id=minor.pk) == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_published_version_cannot_be_published_again():
    services.policy_publish(version="3.0", effective_on=_in(31), summary="x", material=True)
    with pytest.raises(PolicyAlreadyPublished):
        services.policy_publish(version="3.0", effective_on=_in(60), summary="y", material=True)
    assert PolicyVersion.objects.get(version="3.0").summary == "x"


def test_a_real_worker_sends_the_notices_queued_at_publishing(committed):
    broker = dramatiq.get_broker()
    broker.flush("notices")
    holder = _holder("worker-holder@example.test")
    mail.outbox.clear()
    worker = Worker(broker, queues={"notices"}, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        version = services.policy_publish(
            version="9.9", effective_on=_in(30), summary="Retention shortened.", material=True
        )
        broker.join("notices", timeout=30_000)
        assert [m.to for m in mail.outbox] == [["worker-holder@example.test"]]
        assert PolicyChangeNotice.objects.filter(version=version, account_holder=holder).exists()
    finally:
        worker_stop(worker)
        with schema_context("public"):
            PolicyChangeNotice.objects.filter(version__version="9.9").delete()
            PolicyVersion.objects.filter(version="9.9").delete()
            User.objects.filter(email="worker-holder@example.test").delete()


@pytest.mark.django_db
def test_the_command_publishes_and_refuses_an_early_date(alpha):
    _holder("ada@alpha.example", alpha)
    with pytest.raises(CommandError, match="effective_on"):
        call_command(
            "policy",
            "publish",
            "--version",
            "4.0",
            "--effective-on",
            f"{_in(5)}",
            "--summary",
            "x",
            "--material",
        )
    out = io.StringIO()
    with TestCase.captureOnCommitCallbacks(execute=False) as queued:
        call_command(
            "policy",
            "publish",
            "--version",
            "4.0",
            "--effective-on",
            f"{_in(30)}",
            "--summary",
            "New sub-processor",
            "--material",
            stdout=out,
        )
    assert "Published version 4.0" in out.getvalue() and "e-mailed" in out.getvalue()
    assert len(queued) == 1
    listing = io.StringIO()
    call_command("policy", "list", stdout=listing)
    assert "4.0" in listing.getvalue()


@pytest.fixture
def staff(make_user, host_client):
    make_user("public", "staff@callrix.test", role="staff", is_staff=True, is_superuser=True)
    client = host_client("localhost")
    client.post("/admin/login/", {"username": "staff@callrix.test", "password": PASSWORD})
    return client


@pytest.mark.django_db
def test_staff_publish_a_draft_from_the_admin(staff):
    for version, days in (("5.0", 10), ("5.1", 40)):
        response = staff.post(
            "/admin/privacy/policyversion/add/",
            {
                "version": version,
                "effective_on": f"{_in(days)}",
                "summary": "Changes",
                "material": "on",
            },
        )
        assert response.status_code == 302, response.content
    early, later = (
        PolicyVersion.objects.get(version="5.0"),
        PolicyVersion.objects.get(version="5.1"),
    )

    with TestCase.captureOnCommitCallbacks(execute=False):
        staff.post(
            "/admin/privacy/policyversion/",
            {"action": "publish", "_selected_action": [early.pk, later.pk]},
        )

    early.refresh_from_db()
    later.refresh_from_db()
    assert not early.is_published  # refused: too early for a material change
    assert later.is_published
    page = staff.get(f"/admin/privacy/policyversion/{later.pk}/change/")
    assert page.status_code == 200 and b'name="summary"' not in page.content


@pytest.mark.django_db
def test_the_privacy_page_shows_the_current_and_coming_versions(host_client):
    PolicyVersion.objects.create(
        version="1.0",
        effective_on=_in(-100),
        summary="First",
        published_at=timezone.now() - timedelta(days=100),
    )
    services.policy_publish(
        version="2.0", effective_on=_in(30), summary="Matomo now anonymises IPs.", material=True
    )
    PolicyVersion.objects.create(version="3.0-draft", effective_on=_in(60), summary="Draft")

    page = host_client("localhost").get("/privacy/register").content.decode()

    assert "Version 1.0, in effect since" in page
    assert "Version 2.0 takes effect on" in page and "Matomo now anonymises IPs." in page
    assert "3.0-draft" not in page


@pytest.mark.django_db
def test_no_licensee_schema_data_reaches_the_public_privacy_tables(alpha, beta, make_user):
    """Callrix's own tables hold Callrix's records only: after a material change went out,
    no address or name of anyone in a licensee's schema is in any of their columns."""
    for schema in ("alpha", "beta"):
        make_user(schema, f"caller@{schema}.test", display_name=f"Caller of {schema}")
        make_user(schema, f"owner-x@{schema}.test", role="owner", display_name="Owner X")
    _holder("ada@alpha.example", alpha)
    version = services.policy_publish(
        version="8.0", effective_on=_in(30), summary="New retention.", material=True
    )
    services.policy_change_notify(version_id=version.pk)

    tenant_people = set()
    for schema in ("alpha", "beta"):
        with schema_context(schema):
            for email, name in User.objects.values_list("email", "display_name"):
                tenant_people |= {email, name}
    with schema_context("public"):
        stored = " ".join(
            str(value)
            for model in (PolicyVersion, PolicyChangeNotice)
            for row in model.objects.values_list()
            for value in row
        )
    assert "ada@alpha.example" in stored
    leaked = {item for item in tenant_people if item and item in stored}
    assert leaked == set()
