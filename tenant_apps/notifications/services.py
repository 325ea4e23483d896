"""Registering devices and sending pushes. Sending always happens in a job: a push that fails
(or a provider that is down) never breaks the request or call that caused it."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import transaction

from identity.models import User
from kernel import crypto
from kernel.job_outbox.services import job_send_on_commit
from tenant_apps.notifications import fcm_gateway
from tenant_apps.notifications.errors import InvalidDevice
from tenant_apps.notifications.models import Device, FirebaseProject, PushLog

# How long a push may wait for the job queue (Redis down) before it is no longer worth sending.
PUSH_WORTH_SECONDS = 120

logger = logging.getLogger(__name__)

# Incoming calls ring for seconds, not hours: an undelivered ring is worthless later.
INCOMING_CALL_TTL_SECONDS = 30
# Pushes that invite the person to spend rather than serve something they are doing. A
# favourite coming online was asked for by favouriting (no separate consent), but it is
# direct marketing all the same: an objection or a restriction (GDPR Art. 18, 21) stops it.
MARKETING_KINDS = frozenset({"favorite_online"})


def device_register(*, user: User, token: str, platform: str) -> Device:
    token = (token or "").strip()
    if not token or len(token) > 4096:
        raise InvalidDevice("A device token is required.", field="token")
    if platform not in Device.Platform.values:
        raise InvalidDevice("The platform must be android, ios or web.", field="platform")
    with transaction.atomic():
        # A token moves with the device: a new sign-in on it takes it over.
        device, _ = Device.objects.update_or_create(
            token=token, defaults={"user": user, "platform": platform}
        )
    return device


def device_unregister(*, user: User, token: str) -> bool:
    deleted, _ = Device.objects.filter(user=user, token=token).delete()
    return bool(deleted)


def firebase_project_set(*, credentials_json: str, admin: User) -> FirebaseProject:
    project_id = fcm_gateway.credentials_validate(credentials_json)
    project, _ = FirebaseProject.objects.update_or_create(
        singleton=True,
        defaults={
            "project_id": project_id,
            "credentials_encrypted": crypto.encrypt(credentials_json),
            "updated_by_id": admin.pk,
        },
    )
    return project


def _credentials() -> str | None:
    project = FirebaseProject.objects.first()
    return crypto.decrypt(project.credentials_encrypted) if project else None


def push_request(
    *,
    user_ids: list[int],
    kind: str,
    data: Mapping[str, str | int],
    urgent: bool = False,
    title: str | None = None,
    body: str | None = None,
) -> None:
    """Queue a push to these users' devices once the current transaction commits."""
    from tenant_apps.notifications.tasks import push_deliver

    payload = {key: str(value) for key, value in data.items()}
    for user_id in user_ids:
        # A push that waited out a Redis outage longer than this tells of a moment long past.
        job_send_on_commit(
            push_deliver,
            user_id,
            kind,
            payload,
            urgent,
            title,
            body,
            expires_in_seconds=PUSH_WORTH_SECONDS,
        )


def push_deliver(
    *,
    user_id: int,
    kind: str,
    data: dict[str, str],
    urgent: bool = False,
    title: str | None = None,
    body: str | None = None,
) -> str:
    """Send to every device of the user; forget tokens FCM says are gone. Never raises for a
    provider failure (it is logged and recorded)."""
    if kind in MARKETING_KINDS:
        # Checked at sending time too: the person may have objected since it was queued.
        user = User.objects.filter(pk=user_id).first()
        if user is None or not user.is_active or user.marketing_refused:
            return "suppressed"
    devices = list(Device.objects.filter(user_id=user_id))
    if not devices:
        PushLog.objects.create(user_id=user_id, kind=kind, status="no_device")
        return "no_device"
    credentials = _credentials()
    notification = {"title": title, "body": body or ""} if title else None
    sent = 0
    for device in devices:
        result = fcm_gateway.push_send(
            credentials_json=credentials,
            token=device.token,
            data={"kind": kind, **data},
            high_priority=urgent,
            ttl_seconds=INCOMING_CALL_TTL_SECONDS if urgent else 3_600,
            notification=notification,
        )
        if result.status == "sent":
            sent += 1
        elif result.status in ("unregistered", "invalid"):
            device.delete()
        else:
            logger.warning("push %s to device %s failed: %s", kind, device.pk, result.error)
    status = "sent" if sent else "failed"
    PushLog.objects.create(user_id=user_id, kind=kind, status=status, devices=sent)
    return status
