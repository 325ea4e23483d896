"""Checks and normalises uploaded brand images with Pillow: only real PNG/JPEG/WebP (or ICO
for the favicon) within size and dimension limits, re-encoded as PNG so that no uploaded
byte (metadata, a smuggled script) is ever served back."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from branding.errors import BrandImageInvalid


@dataclass(frozen=True)
class ImageRule:
    formats: tuple[str, ...]
    min_width: int
    min_height: int
    max_width: int
    max_height: int
    square: bool


RULES = {
    # A wordmark or logo for the page header and e-mails.
    "logo": ImageRule(("PNG", "JPEG", "WEBP"), 64, 32, 2000, 1000, square=False),
    # The app icon (PWA manifest, home screens): square, large enough for 512 px.
    "icon": ImageRule(("PNG", "JPEG", "WEBP"), 512, 512, 2048, 2048, square=True),
    "favicon": ImageRule(("PNG", "ICO"), 16, 16, 256, 256, square=True),
}
FORMAT_NAMES = {"PNG": "PNG", "JPEG": "JPEG", "WEBP": "WebP", "ICO": "ICO"}


@dataclass(frozen=True)
class NormalisedImage:
    png: bytes
    width: int
    height: int

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.png).hexdigest()[:16]


def image_check(*, kind: str, content: bytes) -> Image.Image:
    rule = RULES[kind]
    limit = settings.BRAND_IMAGE_MAX_BYTES
    if not content:
        raise BrandImageInvalid("The file is empty.", field=kind)
    if len(content) > limit:
        raise BrandImageInvalid(
            f"The file is {len(content) // 1000} kB; at most {limit // 1000} kB are allowed.",
            field=kind,
        )
    allowed = ", ".join(FORMAT_NAMES[f] for f in rule.formats)
    try:
        image = Image.open(io.BytesIO(content))
        image.verify()  # checks the file's structure; the image must be reopened after
        image = Image.open(io.BytesIO(content))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise BrandImageInvalid(
            f"This is not an image file we can read. Use {allowed}.", field=kind
        ) from None
    if image.format not in rule.formats:
        raise BrandImageInvalid(
            f"{image.format or 'This'} images are not accepted here. Use {allowed}.", field=kind
        )
    width, height = image.size
    if rule.square and width != height:
        raise BrandImageInvalid(f"The image must be square; it is {width}×{height} px.", field=kind)
    if not (
        rule.min_width <= width <= rule.max_width and rule.min_height <= height <= rule.max_height
    ):
        raise BrandImageInvalid(
            f"The image is {width}×{height} px; it must be between "
            f"{rule.min_width}×{rule.min_height} and {rule.max_width}×{rule.max_height} px.",
            field=kind,
        )
    return image


def _png(image: Image.Image, size: tuple[int, int] | None = None) -> NormalisedImage:
    image = image.convert("RGBA")
    if size is not None and image.size != size:
        image = image.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return NormalisedImage(out.getvalue(), image.width, image.height)


def image_normalise(*, kind: str, content: bytes) -> dict[str, NormalisedImage]:
    """The files to store for an upload: name -> PNG. An icon gives the two sizes the PWA
    manifest lists (512 and 192 px)."""
    image = image_check(kind=kind, content=content)
    if kind == "icon":
        return {"icon": _png(image, (512, 512)), "icon_small": _png(image, (192, 192))}
    return {kind: _png(image)}


def monogram_png(*, text: str, background: str, size: int = 64) -> bytes:
    """A favicon for a brand without one: its initial, white on its primary colour."""
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=int(size * 0.6))
    draw.text(
        (size / 2, size / 2),
        (text.strip()[:1] or "?").upper(),
        font=font,
        fill="#ffffff",
        anchor="mm",
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
