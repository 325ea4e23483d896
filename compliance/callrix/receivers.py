"""The final export follows a licensee's termination, whoever ended the contract."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver

from tenants.hooks import licensee_terminated


@receiver(licensee_terminated)
def final_export_queue(sender: Any, licensee: Any, **kwargs: Any) -> None:
    from compliance.callrix.tasks import final_export_prepare

    licensee_id = licensee.pk
    transaction.on_commit(lambda: final_export_prepare.send(licensee_id))
