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
