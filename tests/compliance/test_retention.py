"""The retention rules (privacy policy §7) under clock control: each rule on both sides of its
boundary, the dry run changing nothing, a second run deleting nothing more."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt, AccessLog
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.db import connection
from django.test import TestCase
from django.utils import timezone
from django_tenants.utils import schema_context
from ninja_jwt.token_blacklist.models import OutstandingToken

from callrix.schedule import schedule
from compliance.callrix import retention
from compliance.licensee import storage
from compliance.licensee.models import TenantExport
from identity.models import User
from shared_apps.accounts.models import AccountHolder
from shared_apps.billing.models import (
    BillingEvent,
    Invoice,
    LicenseeUsage,
    Plan,
    RevenueShareReport,
    StaffNote,
    Subscription,
    SupportRequest,
)
from shared_apps.billing.services import invoice_retain_until
from shared_apps.licensing import lifecycle
from shared_apps.usage.models import AdminLogin
from tenants import selectors
from tenants.models import Domain, Licensee
from tests.factories import licensee_make

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def run(dry_run: bool = False) -> dict[str, retention.RuleReport]:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return {report.rule: report for report in retention.retention_run(dry_run=dry_run)}


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def holder_make(email: str, licensee: Licensee | None = None, **extra) -> AccountHolder:
    with schema_context("public"):
        user = User.objects.create_user(email, "x", role=User.Role.ACCOUNT_HOLDER)
        return AccountHolder.objects.create(
            user=user,
            licensee=licensee,
            full_name=extra.pop("full_name", "Ada Quill"),
            company=extra.pop("company", "Aurora Ltd"),
            billing_line1="1 Harbour Street",
            billing_city="Limassol",
            billing_postal_code="3036",
            billing_country="CY",
            **extra,
        )


def subscription_make(holder: AccountHolder | None, licensee: Licensee | None, **extra):
    plan, _ = Plan.objects.get_or_create(
        code="basic", defaults={"name": "Basic", "monthly_fee_minor": 4_900}
    )
    return Subscription.objects.create(
        account_holder=holder,
        plan=plan,
        slug=extra.pop("slug", licensee.slug if licensee else "gone"),
        company="Aurora Ltd",
        licensee=licensee,
        **extra,
    )


def invoice_make(subscription: Subscription, issued_at: datetime, number: str) -> Invoice:
    return Invoice.objects.create(
        subscription=subscription,
        licensee=subscription.licensee,
        stripe_invoice_id=f"in_{number}",
        number=number,
        currency="EUR",
        subtotal_minor=4_900,
        tax_minor=931,
        total_minor=5_831,
        customer_name="Aurora Ltd",
        customer_address={"line1": "1 Harbour Street", "city": "Limassol", "country": "CY"},
        status="paid",
        period_start=issued_at,
        period_end=issued_at + timedelta(days=30),
        issued_at=issued_at,
        retain_until=invoice_retain_until(issued_at),
    )


# --- Terminated licensees ---------------------------------------------------------------


@pytest.fixture
def closed(settings, tmp_path):
    """A licensee terminated at T0, with an account holder, an invoice, usage and an export
    archive on disk."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with at(T0 - timedelta(days=200)):
        licensee = licensee_make(slug="rt-closed", name="Closed Oracles")
        holder = holder_make("holder@closed.test", licensee)
        subscription = subscription_make(holder, licensee, status="active")
        invoice = invoice_make(subscription, T0 - timedelta(days=40), "CLOSED-1")
        LicenseeUsage.objects.create(
            licensee=licensee,
            date="2026-01-01",
            advisors=1,
            end_users=2,
            calls=3,
            talk_seconds=60,
            talk_minutes=1,
        )
    with connection.cursor() as cursor:
        # The schema was built inside this test's transaction, with its foreign-key checks
        # deferred; PostgreSQL drops no table with checks pending, so run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    _, archive = storage.file_new(licensee.schema_name)
    archive.write_bytes(b"PK")
    with at(T0), TestCase.captureOnCommitCallbacks(execute=True):
        lifecycle.licensee_terminate(slug="rt-closed")
    return licensee, holder, invoice, archive


def test_a_terminated_licensee_is_kept_for_30_days(closed):
    licensee, holder, _, archive = closed

    with at(T0 + timedelta(days=30) - timedelta(seconds=1)):
        report = run()["terminated_licensees"]

    assert report.total == 0
    assert selectors.schema_exists(schema_name="rt_closed")
    assert Licensee.objects.filter(pk=licensee.pk).exists()
    assert AccountHolder.objects.filter(pk=holder.pk).exists()
    assert archive.exists()


def test_after_30_days_the_schema_and_account_go_and_the_invoices_stay(closed, alpha):
    licensee, holder, invoice, archive = closed

    with at(T0 + timedelta(days=30, seconds=1)):
        report = run()["terminated_licensees"]

    assert report.counts["schemas"] == 1 and report.counts["licensees"] == 1
    assert report.counts["account holders"] == 1 and report.kept["invoices"] == 1
    assert not selectors.schema_exists(schema_name="rt_closed")
    assert not Licensee.objects.filter(pk=licensee.pk).exists()
    assert not Domain.objects.filter(domain="rt-closed.localhost").exists()
    assert not AccountHolder.objects.filter(pk=holder.pk).exists()
    assert not User.objects.filter(email="holder@closed.test").exists()
    assert not LicenseeUsage.objects.filter(licensee_id=licensee.pk).exists()
    assert not archive.parent.exists()
    invoice.refresh_from_db()  # kept 7 years, with the name and address it was issued to
    assert invoice.licensee_id is None and invoice.customer_name == "Aurora Ltd"
    assert invoice.subscription.slug == "rt-closed"
    # Another licensee is untouched.
    assert selectors.schema_exists(schema_name="alpha")

    with at(T0 + timedelta(days=31)):
        assert run()["terminated_licensees"].total == 0  # idempotent


def test_a_licensee_that_is_not_terminated_is_never_dropped(alpha):
    with at(timezone.now() + timedelta(days=400)):
        assert run(dry_run=True)["terminated_licensees"].total == 0
    assert selectors.schema_exists(schema_name="alpha")


# --- Invoices and payment records: 7 years ----------------------------------------------


def test_invoices_and_payment_records_are_deleted_after_7_years():
    issued = datetime(2020, 2, 29, 9, 0, tzinfo=UTC)
    with at(issued):
        old = subscription_make(None, None, slug="old", status="canceled", canceled_at=issued)
        invoice = invoice_make(old, issued, "OLD-1")
        report_row = RevenueShareReport.objects.create(
            subscription=old,
            period_start="2020-02-01",
            period_end="2020-03-01",
            amount_minor=100,
            currency="EUR",
        )
        event = BillingEvent.objects.create(event_id="evt_old", type="invoice.paid", payload={})
    assert invoice.retain_until.isoformat() == "2027-02-28"

    with at(datetime(2027, 2, 28, 23, 59, tzinfo=UTC)):
        kept = run()["financial_records"]
    assert kept.counts["invoices"] == 0 and Invoice.objects.filter(pk=invoice.pk).exists()
    assert kept.counts["subscriptions"] == 0  # its invoice is still kept

    with at(datetime(2027, 3, 1, 0, 1, tzinfo=UTC)):
        gone = run()["financial_records"]
    assert gone.counts["invoices"] == 1 and gone.counts["billing events"] == 1
    # The report covers February: its 7 years run from the period's end, 1 March.
    assert gone.counts["revenue share reports"] == 0 and gone.counts["subscriptions"] == 0

    with at(datetime(2027, 3, 2, 0, 1, tzinfo=UTC)):
        last = run()["financial_records"]
    assert last.counts["revenue share reports"] == 1
    assert last.counts["subscriptions"] == 1  # with the last record hanging on it
    assert not Invoice.objects.filter(pk=invoice.pk).exists()
    assert not RevenueShareReport.objects.filter(pk=report_row.pk).exists()
    assert not BillingEvent.objects.filter(pk=event.pk).exists()
    assert not Subscription.objects.filter(pk=old.pk).exists()


def test_a_running_contract_keeps_its_subscription_after_7_years(alpha):
    long_ago = timezone.now() - timedelta(days=9 * 365)
    live = subscription_make(None, alpha, status="active")
    invoice_make(live, long_ago, "LIVE-1")

    report = run()["financial_records"]

    assert report.counts["invoices"] == 1 and report.counts["subscriptions"] == 0
    assert Subscription.objects.filter(pk=live.pk).exists()


# --- Support correspondence: 2 years after the last interaction -------------------------


def test_support_correspondence_goes_2_years_after_the_last_interaction(alpha):
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    two_years = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

    def request(subject: str, last: datetime) -> SupportRequest:
        return SupportRequest.objects.create(
            licensee=alpha,
            contact_email="owner@alpha.test",
            subject=subject,
            body="Help",
            last_interaction_at=last,
        )

    stale = request("stale", two_years - timedelta(minutes=1))
    StaffNote.objects.create(
        support_request=stale,
        kind="support",
        body="Answered",
        last_interaction_at=two_years - timedelta(minutes=2),
    )
    request("fresh", two_years + timedelta(minutes=1))
    revived = request("revived", two_years - timedelta(days=100))
    StaffNote.objects.create(
        support_request=revived,
        kind="support",
        body="Called back",
        last_interaction_at=two_years + timedelta(minutes=1),
    )
    old_note = StaffNote.objects.create(
        licensee=alpha,
        kind="onboarding_call",
        body="Walked through",
        last_interaction_at=two_years - timedelta(seconds=1),
    )
    new_note = StaffNote.objects.create(
        licensee=alpha, kind="account", body="Plan change", last_interaction_at=two_years
    )

    with at(now):
        report = run()["support_correspondence"]

    assert report.counts == {"support requests": 1, "staff notes": 2}
    assert set(SupportRequest.objects.values_list("subject", flat=True)) >= {"fresh", "revived"}
    assert not SupportRequest.objects.filter(pk=stale.pk).exists()
    assert not StaffNote.objects.filter(pk=old_note.pk).exists()
    assert StaffNote.objects.filter(pk=new_note.pk).exists()
    assert StaffNote.objects.filter(support_request=revived).count() == 1


# --- Technical and access logs: 90 days, in public and every licensee schema --------------


def _logs_in(schema: str, moment: datetime, tag: str) -> None:
    with schema_context(schema), at(moment):
        AccessLog.objects.create(
            user_agent="Mozilla/5.0",
            ip_address="203.0.113.7",
            username=f"{tag}@x.test",
            http_accept="*/*",
            path_info="/api/v1/auth/token",
        )
        AccessAttempt.objects.create(
            user_agent="curl",
            ip_address="203.0.113.8",
            username=f"{tag}@x.test",
            http_accept="*/*",
            path_info="/api/v1/auth/token",
            get_data="",
            post_data="",
            failures_since_start=1,
        )


def test_technical_logs_go_after_90_days_in_public_and_licensee_schemas(alpha, beta):
    now = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
    boundary = now - timedelta(days=90)
    for schema in ("public", "alpha", "beta"):
        _logs_in(schema, boundary - timedelta(seconds=1), "old")
        _logs_in(schema, boundary + timedelta(seconds=1), "new")
    with at(boundary - timedelta(seconds=1)):
        AdminLogin.objects.create(licensee=alpha, account_ref=1, role="owner", channel="api")
    with at(boundary + timedelta(seconds=1)):
        AdminLogin.objects.create(licensee=alpha, account_ref=2, role="owner", channel="api")
    for schema in ("public", "alpha"):
        with schema_context(schema):
            for jti, expires in (
                ("gone", now - timedelta(seconds=1)),
                ("live", now + timedelta(1)),
            ):
                OutstandingToken.objects.create(
                    jti=f"{schema}-{jti}", token="t", created_at=now, expires_at=expires
                )
            Session.objects.create(
                session_key=f"{schema}oldsession", session_data="", expire_date=now - timedelta(1)
            )
            Session.objects.create(
                session_key=f"{schema}newsession", session_data="", expire_date=now + timedelta(1)
            )

    with at(now):
        report = run()["technical_logs"]

    assert report.counts["access logs"] == 3 and report.counts["sign-in attempts"] == 3
    assert report.counts["admin logins"] == 1
    assert report.counts["expired refresh tokens"] == 2
    assert report.counts["expired sessions"] == 2
    mine = {"old@x.test", "new@x.test"}
    for schema in ("public", "alpha", "beta"):
        with schema_context(schema):
            for model in (AccessLog, AccessAttempt):
                left = model.objects.filter(username__in=mine).values_list("username", flat=True)
                assert list(left) == ["new@x.test"], (schema, model)
    assert list(AdminLogin.objects.values_list("account_ref", flat=True)) == [2]
    with schema_context("alpha"):
        tokens = OutstandingToken.objects.filter(jti__startswith="alpha-")
        assert list(tokens.values_list("jti", flat=True)) == ["alpha-live"]
        sessions = Session.objects.filter(session_key__startswith="alpha")
        assert list(sessions.values_list("session_key", flat=True)) == ["alphanewsession"]
    with at(now):
        assert run()["technical_logs"].total == 0


# --- Expired exports ----------------------------------------------------------------------


def test_export_archives_go_when_they_expire_and_their_records_7_days_later(
    alpha, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    now = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
    with schema_context("alpha"):

        def ready(expires_at: datetime) -> tuple[TenantExport, object]:
            name, path = storage.file_new("alpha")
            path.write_bytes(b"PK")
            export = TenantExport.objects.create(
                requested_by_id=1,
                status="ready",
                file_name=name,
                size_bytes=2,
                finished_at=expires_at - timedelta(days=7),
                expires_at=expires_at,
            )
            return export, path

        due, due_path = ready(now)
        live, live_path = ready(now + timedelta(seconds=1))
        old = TenantExport.objects.create(
            requested_by_id=1, status="expired", expires_at=now - timedelta(days=7, seconds=1)
        )
        recent = TenantExport.objects.create(
            requested_by_id=1,
            status="expired",
            expires_at=now - timedelta(days=7) + timedelta(seconds=1),
        )

    with at(now):
        report = run()["expired_exports"]

    assert report.counts == {"export archives": 1, "export records": 1}
    assert not due_path.exists() and live_path.exists()
    with schema_context("alpha"):
        mine = TenantExport.objects.filter(pk__in=[due.pk, live.pk, old.pk, recent.pk])
        statuses = dict(mine.values_list("pk", "status"))
    assert statuses == {due.pk: "expired", live.pk: "ready", recent.pk: "expired"}


# --- Dry run, command, schedule ------------------------------------------------------------


def _snapshot() -> dict[str, int]:
    with schema_context("public"):
        counts = {
            "licensees": Licensee.objects.count(),
            "holders": AccountHolder.objects.count(),
            "invoices": Invoice.objects.count(),
            "requests": SupportRequest.objects.count(),
            "admin logins": AdminLogin.objects.count(),
        }
    with schema_context("alpha"):
        counts["alpha access logs"] = AccessLog.objects.count()
        counts["alpha exports"] = TenantExport.objects.exclude(status="expired").count()
    return counts


def test_the_dry_run_reports_every_rule_and_changes_nothing(closed, alpha):
    with at(T0 - timedelta(days=3000)):
        old = subscription_make(None, None, slug="ancient", status="canceled")
        invoice_make(old, T0 - timedelta(days=3000), "ANCIENT-1")
        SupportRequest.objects.create(
            contact_email="x@y.test",
            subject="Old",
            body="b",
            last_interaction_at=T0 - timedelta(days=3000),
        )
        AdminLogin.objects.create(licensee=alpha, account_ref=1, role="owner", channel="api")
    _logs_in("alpha", T0 - timedelta(days=3000), "old")
    with schema_context("alpha"):
        TenantExport.objects.create(
            requested_by_id=1,
            status="ready",
            file_name="x" * 32 + ".zip",
            size_bytes=1,
            expires_at=T0,
        )
    later = T0 + timedelta(days=31)
    before = _snapshot()

    with at(later):
        output = io.StringIO()
        call_command("retention", "run", "--dry-run", stdout=output)
    printed = output.getvalue()

    assert _snapshot() == before
    assert selectors.schema_exists(schema_name="rt_closed")
    for line in (
        "terminated_licensees (",
        "would delete 1 account holders",
        "1 licensees, 1 schemas",
        "kept 1 invoices",
        "financial_records (",
        "support_correspondence (",
        "technical_logs (",
        "expired_exports (",
        "Dry run: nothing was changed.",
    ):
        assert line in printed, printed
    assert "1 invoices" in printed.split("financial_records")[1].splitlines()[0]
    assert "1 support requests" in printed.split("support_correspondence")[1].splitlines()[0]
    assert "1 export archives" in printed.split("expired_exports")[1].splitlines()[0]

    with at(later), TestCase.captureOnCommitCallbacks(execute=True):
        output = io.StringIO()
        call_command("retention", "run", stdout=output)
    assert "deleted 1 account holders" in output.getvalue()
    assert not selectors.schema_exists(schema_name="rt_closed")
    assert _snapshot()["requests"] == before["requests"] - 1


def test_retention_runs_daily_from_the_scheduler():
    jobs = {job.actor_path: job.every_seconds for job in schedule()}
    assert jobs["compliance.callrix.tasks.retention_run_all"] == 24 * 3600
