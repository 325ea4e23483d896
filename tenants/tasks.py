import dramatiq

from tenants import provisioning


@dramatiq.actor(queue_name="maintenance", max_retries=3)
def spare_pool_refill() -> None:
    """Top the warm pool back up after a provisioning took a spare (idempotent)."""
    provisioning.spare_pool_refill()
