"""Colour contrast after WCAG 2.1 (success criteria 1.4.3 and 1.4.11)."""

from __future__ import annotations

import re

HEX_COLOUR = re.compile(r"^#[0-9a-f]{6}$")
# WCAG 2.1 AA: normal text needs 4.5:1 against its background.
AA_TEXT = 4.5
WHITE = "#ffffff"


def _channel(value: int) -> float:
    srgb = value / 255
    return srgb / 12.92 if srgb <= 0.03928 else ((srgb + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
