"""Payout periods of a schedule, in UTC: an advisor is paid at most once per period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def period_key(schedule: str, moment: datetime) -> str:
    """'2026-12-01' (daily), '2026-W49' (weekly, ISO), '2026-12' (monthly)."""
    moment = moment.astimezone(UTC)
    if schedule == "daily":
        return moment.strftime("%Y-%m-%d")
    if schedule == "weekly":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    return moment.strftime("%Y-%m")


def next_period_start(schedule: str, moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if schedule == "daily":
        return midnight + timedelta(days=1)
    if schedule == "weekly":
        return midnight + timedelta(days=7 - midnight.weekday())
    first = midnight.replace(day=1)
    return (first + timedelta(days=32)).replace(day=1)


def next_hour(moment: datetime) -> datetime:
    """When the hourly scheduler next looks (see `callrix.schedule`)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
