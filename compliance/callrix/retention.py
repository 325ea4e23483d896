"""The retention rules of the privacy policy (§7), run daily by the scheduler and by hand with
`callrix retention run [--dry-run]`. Each rule deletes what its period has run out for, and
nothing else, so a second run the same day deletes nothing (idempotent); a dry run counts the
same querysets and changes nothing.

Callrix's own records (public schema) follow Callrix's policy. In the licensees' schemas the
rules touch only what the platform itself keeps for running the service — sign-in attempt and
access logs, expired sessions and refresh tokens, export archives — never the licensee's own
business data, whose retention is the licensee's decision as its controller.
"""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context
from ninja_jwt.token_blacklist.models import OutstandingToken

from compliance.callrix import account_rights as account_services
from compliance.licensee import services as export_services
from compliance.licensee.models import TenantExport
from shared_apps.accounts.errors import ErasureRefused
from shared_apps.accounts.models import AccountHolder
from shared_apps.billing.models import (
    BillingEvent,
    Invoice,
    LicenseeUsage,
    RevenueShareReport,
    StaffNote,
    Subscription,
    SupportRequest,
)
from shared_apps.usage.models import AdminLogin
from tenants import schemas
from tenants.models import TERMINATED_DATA_RETENTION_DAYS, Domain, Licensee
from tenants.routing import invalidate_hosts
from tenants.selectors import schema_exists

logger = logging.getLogger(__name__)

FINANCIAL_YEARS = Invoice.RETENTION_YEARS  # invoices, payment and tax records (§7)
CORRESPONDENCE_YEARS = 2  # after the last interaction (§7)
TECHNICAL_LOG_DAYS = 90  # server and access logs (§7)
# An export's archive goes when its link expires (7 days); its row stays 7 days more, so the
# admins who asked for it see "expired" rather than "not found", then goes too.
EXPORT_ROW_KEPT_AFTER_EXPIRY = timedelta(days=7)


@dataclass
class RuleReport:
    rule: str
    description: str
    # What was (or, in a dry run, would be) deleted, by kind: counts only, never names.
    counts: Counter = field(default_factory=Counter)
    # What the rule deliberately leaves in place (e.g. a removed licensee's invoices).
    kept: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def years_before(moment, years: int):
    """The same calendar day `years` earlier (28 February for a 29th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def _delete(queryset: QuerySet, dry_run: bool) -> int:
    """How many rows of the queryset's own model go (cascaded rows are counted apart)."""
    if dry_run:
        return queryset.count()
    _, per_model = queryset.delete()
    return per_model.get(queryset.model._meta.label, 0)


# --- Terminated licensees: the schema 30 days after termination ---------------------------


def terminated_licensees_due(now: datetime) -> QuerySet[Licensee]:
    cutoff = now - timedelta(days=TERMINATED_DATA_RETENTION_DAYS)
    return Licensee.objects.filter(
        status=Licensee.Status.TERMINATED, terminated_at__lte=cutoff
    ).order_by("pk")


def _licensee_remove(licensee: Licensee, report: RuleReport, dry_run: bool) -> None:
    """Drop the schema and everything of the licensee's in the public schema that is
    account or usage data. Its invoices, revenue share reports and subscription stay (the
    licensee link set to NULL; the invoice carries the billed party's name and address), as
    do support requests under their own 2-year rule. The Licensee row itself goes with its
    domains — no tombstone: the subscription (slug, company, Stripe ids) is the record the
    invoices need, and the slug becomes free again."""
    counts = report.counts
    holders = AccountHolder.objects.filter(licensee=licensee).select_related("user", "licensee")
    with transaction.atomic():
        for holder in holders:
            if dry_run:
                counts["account holders"] += 1
                continue
            try:
                account_services.account_holder_erase(holder=holder, password=None)
            except ErasureRefused:
                # The same person signed up again: that contract still needs the account.
                report.kept["account holders under another contract"] += 1
                continue
            counts["account holders"] += 1
        report.kept["invoices"] += Invoice.objects.filter(licensee=licensee).count()
        counts["usage days"] += _delete(LicenseeUsage.objects.filter(licensee=licensee), dry_run)
        counts["admin logins"] += _delete(AdminLogin.objects.filter(licensee=licensee), dry_run)
        counts["domains"] += _delete(Domain.objects.filter(tenant=licensee), dry_run)
        exists = schema_exists(schema_name=licensee.schema_name)
        counts["schemas"] += 1 if exists else 0
        counts["licensees"] += 1
        if dry_run:
            return
        if exists:
            schemas.schema_drop(licensee.schema_name)
        Licensee.objects.filter(pk=licensee.pk).delete()
        folder = Path(settings.MEDIA_ROOT) / "exports" / licensee.schema_name
        transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))
        transaction.on_commit(invalidate_hosts)


def rule_terminated_licensees(now: datetime, dry_run: bool) -> RuleReport:
    report = RuleReport(
        "terminated_licensees",
        f"licensees terminated more than {TERMINATED_DATA_RETENTION_DAYS} days ago",
    )
    with schema_context("public"):
        for licensee in terminated_licensees_due(now):
            try:
                _licensee_remove(licensee, report, dry_run)
            except Exception as error:  # one licensee failing stops no other
                logger.exception("Removing the terminated licensee %s failed.", licensee.slug)
                report.failures.append(f"{licensee.slug}: {error}")
    return report


# --- Invoices, payment and tax records: 7 years ------------------------------------------


def rule_financial_records(now: datetime, dry_run: bool) -> RuleReport:
    report = RuleReport(
        "financial_records", f"invoices and payment records after {FINANCIAL_YEARS} years"
    )
    today = now.date()
    cutoff = years_before(now, FINANCIAL_YEARS)
    cutoff_day: date = cutoff.date()
    with schema_context("public"), transaction.atomic():
        # Subscriptions are the contract record the invoices hang on: they go with the last
        # of them, once the contract ended and its licensee is gone.
        subscriptions = (
            Subscription.objects.filter(licensee__isnull=True, status__in=Subscription.ENDED)
            .annotate(ended=Coalesce("canceled_at", "created_at"))
            .filter(ended__lt=cutoff)
            .exclude(invoices__retain_until__gte=today)
            .exclude(revenue_share_reports__period_end__gte=cutoff_day)
        )
        subscription_ids = list(subscriptions.values_list("pk", flat=True))
        report.counts["invoices"] = _delete(Invoice.objects.filter(retain_until__lt=today), dry_run)
        report.counts["revenue share reports"] = _delete(
            RevenueShareReport.objects.filter(period_end__lt=cutoff_day), dry_run
        )
        # Stripe's events carry the invoices and customers they were about.
        report.counts["billing events"] = _delete(
            BillingEvent.objects.filter(received_at__lt=cutoff), dry_run
        )
        report.counts["subscriptions"] = _delete(
            Subscription.objects.filter(pk__in=subscription_ids), dry_run
        )
    return report


# --- Support correspondence: 2 years after the last interaction ---------------------------


def rule_support_correspondence(now: datetime, dry_run: bool) -> RuleReport:
    report = RuleReport(
        "support_correspondence",
        f"support requests and staff notes {CORRESPONDENCE_YEARS} years after the last interaction",
    )
    cutoff = years_before(now, CORRESPONDENCE_YEARS)
    with schema_context("public"), transaction.atomic():
        # A thread's last interaction is its own or its latest note's, whichever is later.
        requests = (
            SupportRequest.objects.annotate(latest_note=Max("notes__last_interaction_at"))
            .filter(last_interaction_at__lt=cutoff)
            .filter(Q(latest_note__isnull=True) | Q(latest_note__lt=cutoff))
        )
        request_ids = list(requests.values_list("pk", flat=True))
        report.counts["staff notes"] = _delete(
            StaffNote.objects.filter(
                Q(support_request_id__in=request_ids)
                | Q(support_request__isnull=True, last_interaction_at__lt=cutoff)
            ),
            dry_run,
        )
        report.counts["support requests"] = _delete(
            SupportRequest.objects.filter(pk__in=request_ids), dry_run
        )
    return report


# --- Technical and access logs: 90 days ---------------------------------------------------


def _platform_logs(now: datetime, counts: Counter, dry_run: bool) -> None:
    """The logs kept in every schema (public and each licensee's): sign-in attempts and
    access logs with IP address, user agent and path (django-axes), and credentials past
    their expiry — refresh tokens (with their blacklist entries) and sessions — which record
    when someone signed in."""
    cutoff = now - timedelta(days=TECHNICAL_LOG_DAYS)
    with transaction.atomic():
        counts["sign-in attempts"] += _delete(
            AccessAttempt.objects.filter(attempt_time__lt=cutoff), dry_run
        )
        counts["sign-in failures"] += _delete(
            AccessFailureLog.objects.filter(attempt_time__lt=cutoff), dry_run
        )
        counts["access logs"] += _delete(
            AccessLog.objects.filter(
                Q(attempt_time__lt=cutoff)
                & (Q(logout_time__isnull=True) | Q(logout_time__lt=cutoff))
            ),
            dry_run,
        )
        counts["expired refresh tokens"] += _delete(
            OutstandingToken.objects.filter(expires_at__lt=now), dry_run
        )
        counts["expired sessions"] += _delete(Session.objects.filter(expire_date__lt=now), dry_run)


def _each_licensee(report: RuleReport, work: Callable[[Licensee], None]) -> None:
    with schema_context("public"):
        licensees = list(Licensee.objects.order_by("pk"))
    for licensee in licensees:
        if not schema_exists(schema_name=licensee.schema_name):
            continue
        try:
            with tenant_context(licensee):
                work(licensee)
        except Exception as error:  # one licensee failing stops no other
            logger.exception("Retention (%s) failed for %s.", report.rule, licensee.slug)
            report.failures.append(f"{licensee.slug}: {error}")


def rule_technical_logs(now: datetime, dry_run: bool) -> RuleReport:
    report = RuleReport(
        "technical_logs", f"technical and access logs after {TECHNICAL_LOG_DAYS} days"
    )
    cutoff = now - timedelta(days=TECHNICAL_LOG_DAYS)
    with schema_context("public"):
        report.counts["admin logins"] += _delete(
            AdminLogin.objects.filter(logged_in_at__lt=cutoff), dry_run
        )
        _platform_logs(now, report.counts, dry_run)
    _each_licensee(report, lambda _licensee: _platform_logs(now, report.counts, dry_run))
    return report


# --- Expired exports -----------------------------------------------------------------------


def _exports_expire(now: datetime, counts: Counter, dry_run: bool) -> None:
    if dry_run:
        counts["export archives"] += TenantExport.objects.filter(
            status=TenantExport.Status.READY, expires_at__lte=now
        ).count()
    else:
        counts["export archives"] += export_services.tenant_exports_expire()
    gone_before = now - EXPORT_ROW_KEPT_AFTER_EXPIRY
    rows = TenantExport.objects.filter(
        Q(status=TenantExport.Status.EXPIRED, expires_at__lte=gone_before)
        | Q(status=TenantExport.Status.FAILED, finished_at__lte=gone_before)
    )
    counts["export records"] += _delete(rows, dry_run)


def rule_expired_exports(now: datetime, dry_run: bool) -> RuleReport:
    report = RuleReport(
        "expired_exports",
        "tenant export archives when their 7 days end; their records 7 days later",
    )
    _each_licensee(report, lambda _licensee: _exports_expire(now, report.counts, dry_run))
    return report


RULES: tuple[Callable[[datetime, bool], RuleReport], ...] = (
    rule_terminated_licensees,
    rule_financial_records,
    rule_support_correspondence,
    rule_technical_logs,
    rule_expired_exports,
)


def retention_run(*, dry_run: bool = False) -> list[RuleReport]:
    """Apply every rule at the current time (a dry run only counts)."""
    now = timezone.now()
    reports = [rule(now, dry_run) for rule in RULES]
    for report in reports:
        logger.info(
            "Retention %s%s: %s",
            report.rule,
            " (dry run)" if dry_run else "",
            dict(report.counts) or "nothing due",
        )
    return reports
