"""Compliance jobs that cross from the public schema into licensees' schemas."""

import dramatiq

from compliance.callrix import final_export, retention

FINAL_EXPORT_TIME_LIMIT_MS = 6 * 3600 * 1000


@dramatiq.actor(
    queue_name="compliance",
    max_retries=3,
    min_backoff=60_000,
    time_limit=FINAL_EXPORT_TIME_LIMIT_MS,
)
def final_export_prepare(licensee_id: int) -> None:
    """At termination: write the licensee's final archive and e-mail its owners the link
    (idempotent: a rerun reuses the archive)."""
    final_export.final_export_prepare(licensee_id=licensee_id)


@dramatiq.actor(queue_name="maintenance", max_retries=3, time_limit=3_600_000)
def retention_run_all() -> None:
    """Daily: every retention rule of the privacy policy (idempotent: a rerun deletes
    nothing more). A rule that failed for some licensee makes the job retry."""
    reports = retention.retention_run(dry_run=False)
    failures = [f"{r.rule}: {f}" for r in reports for f in r.failures]
    if failures:
        raise RuntimeError("Retention failed for: " + "; ".join(failures))
