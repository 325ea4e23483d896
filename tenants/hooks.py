"""Ports between tenancy and the apps on either side of it. Callrix's own business
(`shared_apps`) and the licensee's (`tenant_apps`) never import each other: where one must
reach the other, tenancy carries the message. These hooks import no model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.dispatch import Signal

# Sent inside the transaction that provisions a licensee on a plan; kwargs: licensee,
# revenue_share_bps. The licensee's pricing takes Callrix's fee from it.
licensee_terms_set = Signal()

# Sent inside the transaction that ends a licensee's contract; kwargs: licensee.
licensee_terminated = Signal()

# Sent after the nightly check of a licensee's ledger; kwargs: licensee, breaches (list of
# str, empty when clean). Callrix's side records a failure, tells staff and pauses payouts.
ledger_checked = Signal()

# Sent once a licensee admin's dashboard action is committed; kwargs: licensee_id (int),
# action (str). It becomes an anonymous count in the public schema (privacy policy §2.3).
admin_action_committed = Signal()

FigureReader = Callable[..., Any]
_figure_readers: dict[str, FigureReader] = {}


def figure_reader_register(name: str, reader: FigureReader) -> None:
    """A tenant app offers one figure read out of the current licensee's schema (counts and
    sums only, never a row that identifies anyone)."""
    _figure_readers[name] = reader


def figure_reader(name: str) -> FigureReader:
    try:
        return _figure_readers[name]
    except KeyError:
        raise LookupError(f"No tenant app reads the figure '{name}'.") from None


@dataclass(frozen=True)
class LicenseeTerms:
    """What a licensee's contract says at a moment: its plan, Callrix's fee on each call and
    what the plan includes (0 included advisors: no limit), with the next larger plan."""

    plan_code: str
    plan_name: str
    revenue_share_bps: int
    included_advisors: int
    included_minutes: int
    effective_from: datetime
    upgrade_plan_name: str | None = None
    upgrade_included_advisors: int | None = None
    overage_minor_per_minute: int = 0  # each talk minute past the included ones


TermsReader = Callable[..., LicenseeTerms | None]  # (licensee_id, at, *, with_upgrade)
_terms_readers: list[TermsReader] = []


def terms_reader_register(reader: TermsReader) -> None:
    """Callrix's billing offers the terms in force for a licensee at a moment (its
    effective-dated history in the public schema); registered once, in `AppConfig.ready`."""
    if reader not in _terms_readers:
        _terms_readers.append(reader)


def licensee_terms_at(
    licensee_id: int, at: datetime, *, with_upgrade: bool = False
) -> LicenseeTerms | None:
    """The terms in force for the licensee at `at`, or None for a licensee on no plan (made
    by `callrix licensee create`): its own pricing policy's fee then applies. The upgrade
    plan costs another query, so it is looked up only `with_upgrade`."""
    for reader in _terms_readers:
        terms = reader(licensee_id, at, with_upgrade=with_upgrade)
        if terms is not None:
            return terms
    return None


PauseReader = Callable[[int], str | None]
_pause_readers: list[PauseReader] = []


def payouts_pause_reader_register(reader: PauseReader) -> None:
    """Callrix's side says why a licensee's advisor payouts are paused (None: they are not),
    e.g. an unresolved ledger breach; registered once, in `AppConfig.ready`."""
    if reader not in _pause_readers:
        _pause_readers.append(reader)


def licensee_payouts_paused(licensee_id: int) -> str | None:
    """Why the licensee's payouts are paused, or None."""
    for reader in _pause_readers:
        reason = reader(licensee_id)
        if reason:
            return reason
    return None


@dataclass(frozen=True)
class InvoiceLineView:
    description: str
    amount_minor: int
    overage: bool  # bills talk minutes past the plan's included ones


@dataclass(frozen=True)
class InvoiceView:
    number: str
    issued_at: datetime
    status: str
    total_minor: int
    currency: str
    hosted_invoice_url: str
    lines: tuple[InvoiceLineView, ...]


@dataclass(frozen=True)
class PlanUsage:
    """A licensee's billing period so far, from Callrix's billing: the plan's included
    talk minutes, those used (days counted so far), those past the included ones and what
    they will cost on the next invoice, with the latest invoices."""

    plan_name: str
    period_start: datetime
    period_end: datetime
    included_minutes: int
    used_minutes: int
    overage_minutes: int
    overage_minor_per_minute: int
    expected_overage_minor: int
    currency: str
    invoices: tuple[InvoiceView, ...]


PlanUsageReader = Callable[[int], PlanUsage | None]
_plan_usage_readers: list[PlanUsageReader] = []


def plan_usage_reader_register(reader: PlanUsageReader) -> None:
    """Callrix's billing offers a licensee's minutes and invoices (numbers only); registered
    once, in `AppConfig.ready`."""
    if reader not in _plan_usage_readers:
        _plan_usage_readers.append(reader)


def licensee_plan_usage(licensee_id: int) -> PlanUsage | None:
    """The licensee's current billing period, or None for a licensee on no plan."""
    for reader in _plan_usage_readers:
        usage = reader(licensee_id)
        if usage is not None:
            return usage
    return None
