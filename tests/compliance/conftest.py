from __future__ import annotations

import io
import json
import zipfile

import pytest

from tests.factories import PASSWORD


@pytest.fixture(autouse=True)
def export_media(settings, tmp_path):
    """Archives go to a folder of this test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def token_for(api):
    def token(slug: str, email: str) -> str:
        response = api(slug).post("/api/v1/auth/token", {"email": email, "password": PASSWORD})
        assert response.status_code == 200, response.content
        return response.json()["access"]

    return token


def archive_files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def archive_manifest(files: dict[str, bytes]) -> dict:
    return json.loads(files["manifest.json"])


def topup_paid(user, amount_minor: int, intent: str):
    """A card top-up that succeeded, credited to the wallet as the webhook would book it
    (call inside the licensee's schema)."""
    from django.utils import timezone

    from tenant_apps.payments.models import TopUp
    from tenant_apps.wallets.models import AccountKind
    from tenant_apps.wallets.services import Leg, account_for, ledger_post

    topup = TopUp.objects.create(
        user=user,
        amount_minor=amount_minor,
        currency="EUR",
        status=TopUp.Status.SUCCEEDED,
        payment_intent_id=intent,
        client_secret=f"{intent}_secret",
        succeeded_at=timezone.now(),
    )
    ledger_post(
        idempotency_key=f"topup:{topup.pk}:credit",
        kind="topup",
        description="Top-up",
        metadata={"topup_id": topup.pk},
        legs=[
            Leg(account_for(kind=AccountKind.STRIPE_CLEARING), -amount_minor),
            Leg(account_for(kind=AccountKind.WALLET, owner_id=user.pk), amount_minor),
        ],
    )
    return topup
