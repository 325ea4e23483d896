"""The final export follows a licensee's termination, whoever ended the contract."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from kernel.job_outbox.services import job_send_on_commit
from tenants.hooks import licensee_terminated


@receiver(licensee_terminated)
def final_export_queue(sender: Any, licensee: Any, **kwargs: Any) -> None:
    from compliance.callrix.tasks import final_export_prepare

    job_send_on_commit(final_export_prepare, licensee.pk)
