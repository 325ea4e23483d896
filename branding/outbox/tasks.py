import dramatiq
from dramatiq.middleware import CurrentMessage

from branding.outbox import services

MAX_RETRIES = 8  # with back-off from 10 s to 30 min: about four hours of attempts


@dramatiq.actor(
    queue_name="mail", max_retries=MAX_RETRIES, min_backoff=10_000, max_backoff=1_800_000
)
def mail_deliver(data: dict) -> None:
    message = CurrentMessage.get_current_message()
    attempt = int(message.options.get("retries", 0)) if message else 0
    services.mail_deliver(data, attempt=attempt, last_attempt=attempt >= MAX_RETRIES)


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def mail_unqueued_requeue() -> None:
    services.mail_unqueued_requeue()
