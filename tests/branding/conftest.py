from __future__ import annotations

import io

import pytest
from PIL import Image


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Brand images go to a folder of this test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def png(width: int, height: int, colour: str = "#336699", fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format=fmt)
    return out.getvalue()
