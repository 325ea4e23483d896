import dramatiq

from shared_apps.privacy import services


@dramatiq.actor(queue_name="notices", max_retries=5, min_backoff=10_000)
def policy_change_notify(version_id: int) -> None:
    """E-mail a published material change to every account holder (idempotent)."""
    services.policy_change_notify(version_id=version_id)
