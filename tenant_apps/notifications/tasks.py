import dramatiq

from tenant_apps.notifications import services


@dramatiq.actor(queue_name="push", max_retries=3, time_limit=60_000)
def push_deliver(
    user_id: int,
    kind: str,
    data: dict,
    urgent: bool = False,
    title: str | None = None,
    body: str | None = None,
) -> None:
    services.push_deliver(
        user_id=user_id, kind=kind, data=data, urgent=urgent, title=title, body=body
    )
