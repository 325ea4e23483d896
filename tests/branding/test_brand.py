"""A licensee's brand: checked input, applied on its hosts at once, never on another's."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from branding import services
from branding.errors import BrandColourContrast, BrandError, BrandImageInvalid
from branding.selectors import brand_for_licensee
from tests.branding.conftest import png

pytestmark = pytest.mark.django_db


def test_a_colour_too_light_for_white_text_is_refused_naming_the_field(alpha):
    with pytest.raises(BrandColourContrast) as refused:
        services.brand_update(licensee=alpha, primary_color="#ffd966")
    assert refused.value.field == "primary_color"
    assert "4.5:1" in refused.value.detail and "1.37:1" in refused.value.detail


def test_a_light_accent_is_refused_and_a_dark_one_accepted(alpha):
    with pytest.raises(BrandColourContrast) as refused:
        services.brand_update(licensee=alpha, accent_color="#7fb3ff")
    assert refused.value.field == "accent_color"
    row = services.brand_update(licensee=alpha, accent_color="#063")
    assert row.accent_color == "#006633"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("primary_color", "purple"),
        ("support_email", "not-an-address"),
        ("privacy_policy_url", "javascript:alert(1)"),
        ("default_language", "fr"),
        ("currency_display", "words"),
        ("app_name", "   "),
        ("legal_entity_name", "x" * 201),
    ],
)
def test_bad_brand_input_names_its_field(alpha, field, value):
    with pytest.raises(BrandError) as refused:
        services.brand_update(licensee=alpha, **{field: value})
    assert refused.value.field == field


def test_a_brand_change_shows_on_the_next_request_without_a_restart(
    alpha, host_client, django_capture_on_commit_callbacks
):
    client = host_client("alpha.localhost")
    assert "--brand-primary: #1f4e79" in client.get("/brand/theme.css").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.brand_update(licensee=alpha, primary_color="#4B2A7B", app_name="Alpha Stars")
    theme = client.get("/brand/theme.css").content.decode()
    assert "--brand-primary: #4b2a7b" in theme
    page = client.get("/account/login/").content.decode()
    assert "Alpha Stars" in page and "Callrix" not in page


def test_one_licensees_brand_never_shows_on_another_host(
    alpha, beta, host_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.brand_update(licensee=alpha, app_name="Alpha Stars", primary_color="#4b2a7b")
        services.brand_image_set(licensee=alpha, kind="logo", content=png(400, 100))
    beta_client = host_client("beta.localhost")
    for path in (
        "/brand/theme.css",
        "/manifest.webmanifest",
        "/api/v1/app-config",
        "/account/login/",
    ):
        body = beta_client.get(path).content.decode()
        assert "Alpha Stars" not in body and "#4b2a7b" not in body, path
    assert beta_client.get("/brand/logo.png").status_code == 404
    assert host_client("alpha.localhost").get("/brand/logo.png").status_code == 200


def test_an_uploaded_icon_is_re_encoded_and_served_at_both_manifest_sizes(
    alpha, host_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.brand_image_set(licensee=alpha, kind="icon", content=png(1024, 1024, fmt="JPEG"))
    client = host_client("alpha.localhost")
    manifest = json.loads(client.get("/manifest.webmanifest").content)
    sizes = {icon["sizes"]: icon["src"] for icon in manifest["icons"]}
    assert set(sizes) == {"192x192", "512x512"}
    for size, src in sizes.items():
        response = client.get(src)
        assert response["Content-Type"] == "image/png"
        image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
        assert image.format == "PNG" and f"{image.width}x{image.height}" == size
    assert manifest["name"] == "Alpha Advice" and manifest["start_url"] == "/"


@pytest.mark.parametrize(
    ("kind", "content", "message"),
    [
        (
            "logo",
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>x</script></svg>",
            "not an image",
        ),
        ("logo", png(40, 20), "between 64×32"),
        ("icon", png(600, 512), "must be square"),
        ("icon", png(256, 256), "between 512×512"),
        ("favicon", png(32, 32, fmt="JPEG"), "JPEG images are not accepted"),
        ("logo", b"", "empty"),
    ],
)
def test_bad_images_are_refused_with_the_reason(alpha, kind, content, message):
    with pytest.raises(BrandImageInvalid) as refused:
        services.brand_image_set(licensee=alpha, kind=kind, content=content)
    assert refused.value.field == kind and message in refused.value.detail


def test_an_image_over_the_size_limit_is_refused(alpha, settings):
    settings.BRAND_IMAGE_MAX_BYTES = 1_000
    with pytest.raises(BrandImageInvalid) as refused:
        services.brand_image_set(
            licensee=alpha, kind="logo", content=png(600, 300, "#123456") + b"\0" * 2_000
        )
    assert "at most 1 kB" in refused.value.detail


def test_money_is_shown_as_the_brand_chooses(alpha, django_capture_on_commit_callbacks):
    assert brand_for_licensee(alpha).money(2050) == "€20.50"
    with django_capture_on_commit_callbacks(execute=True):
        services.brand_update(licensee=alpha, currency_display="code")
    assert brand_for_licensee(alpha).money(-2050) == "-20.50 EUR"
