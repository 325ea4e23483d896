"""Publishing a version of Callrix's privacy policy, and the notice of a material change to
every licensee account holder (policy §12: by e-mail, at least 30 days before it takes
effect)."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from kernel.job_outbox.services import job_send_on_commit
from shared_apps.accounts.models import AccountHolder
from shared_apps.privacy.errors import (
    EffectiveTooSoon,
    InvalidPolicyField,
    PolicyAlreadyPublished,
)
from shared_apps.privacy.models import MATERIAL_NOTICE_DAYS, PolicyChangeNotice, PolicyVersion

logger = logging.getLogger(__name__)

VERSION_FORMAT = re.compile(r"^[0-9A-Za-z.-]{1,20}$")


def earliest_effective_on(*, material: bool, published_on: date) -> date:
    """A material change needs 30 days' notice; any other change may apply from publishing."""
    return published_on + timedelta(days=MATERIAL_NOTICE_DAYS if material else 0)


def _check(*, version: str, effective_on: date, summary: str, material: bool) -> None:
    if not VERSION_FORMAT.match(version):
        raise InvalidPolicyField(
            "The version is 1–20 letters, digits, dots or hyphens, e.g. 2027.1.",
            field="version",
        )
    if not summary:
        raise InvalidPolicyField("Say in a summary what changed.", field="summary")
    today = timezone.now().date()
    earliest = earliest_effective_on(material=material, published_on=today)
    if effective_on < earliest:
        if material:
            raise EffectiveTooSoon(
                f"A material change must be announced at least {MATERIAL_NOTICE_DAYS} days "
                f"before it takes effect: published today, it can take effect on "
                f"{earliest:%Y-%m-%d} at the earliest.",
                field="effective_on",
            )
        raise EffectiveTooSoon(
            "A change cannot take effect before it is published.", field="effective_on"
        )


def policy_publish(
    *, version: str, effective_on: date, summary: str, material: bool
) -> PolicyVersion:
    """Publish a version (an existing draft of that name, or a new one). A material change
    queues its notice to every account holder when the publication commits."""
    from shared_apps.privacy.tasks import policy_change_notify

    version = (version or "").strip()
    summary = (summary or "").strip()
    _check(version=version, effective_on=effective_on, summary=summary, material=material)
    with schema_context("public"), transaction.atomic():
        record = PolicyVersion.objects.select_for_update().filter(version=version).first()
        if record is not None and record.is_published:
            raise PolicyAlreadyPublished(
                f"Version {version} is already published; publish a new version instead.",
                field="version",
            )
        if record is None:
            record = PolicyVersion(version=version)
        record.effective_on = effective_on
        record.summary = summary
        record.material = material
        record.published_at = timezone.now()
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError as error:  # the database's own 30-day check, e.g. at midnight
            if "policy_material_change_noticed_30_days" not in str(error):
                raise
            raise EffectiveTooSoon(
                f"A material change must be announced at least {MATERIAL_NOTICE_DAYS} days "
                "before it takes effect.",
                field="effective_on",
            ) from None
        if material:
            job_send_on_commit(policy_change_notify, record.pk)
    return record


def _notice_body(version: PolicyVersion, holder: AccountHolder) -> str:
    return (
        f"Dear {holder.full_name},\n\n"
        f"We are changing the Callrix privacy policy. Version {version.version} takes effect "
        f"on {version.effective_on:%d %B %Y}.\n\n"
        f"What changes:\n{version.summary}\n\n"
        "You receive this because you hold a licensee account with Callrix. The current and "
        "the coming policy are on our privacy page. Questions? Write to hello@callrix.io.\n\n"
        "KCraft Studio LTD\n"
    )


def policy_change_notify(*, version_id: int) -> int:
    """E-mail the change to every licensee account holder not told yet (safe to run twice:
    each notice is recorded once). Only account holders — Callrix's own contract partners,
    never anyone in a licensee's schema. Returns how many were sent now."""
    sent = 0
    with schema_context("public"):
        version = PolicyVersion.objects.filter(pk=version_id, published_at__isnull=False).first()
        if version is None or not version.material:
            return 0
        told = PolicyChangeNotice.objects.filter(version=version).values("account_holder_id")
        pending = (
            AccountHolder.objects.filter(user__is_active=True)
            .exclude(pk__in=told)
            .select_related("user")
            .order_by("pk")
        )
        subject = f"Changes to the Callrix privacy policy from {version.effective_on:%d %B %Y}"
        for holder in pending:
            send_mail(
                subject=subject,
                message=_notice_body(version, holder),
                from_email=None,
                recipient_list=[holder.user.email],
            )
            PolicyChangeNotice.objects.get_or_create(
                version=version, account_holder=holder, defaults={"email": holder.user.email}
            )
            sent += 1
    logger.info("Policy %s: %s change notice(s) sent.", version.version, sent)
    return sent
