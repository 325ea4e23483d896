"""A licensee's brand, kept by Callrix in the public schema (docs/architecture.md §1): it is the
licensee's configuration of its platform, not anyone's personal data."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


def brand_image_path(instance: Brand, filename: str) -> str:
    # Every licensee's images under its own folder; the name carries a content hash.
    return f"branding/{instance.licensee_id}/{filename}"


class Brand(models.Model):
    class Language(models.TextChoices):
        ENGLISH = "en", "English"
        GERMAN = "de", "Deutsch"

    class CurrencyDisplay(models.TextChoices):
        SYMBOL = "symbol", "€12.50"
        CODE = "code", "12.50 EUR"

    licensee = models.OneToOneField(
        "tenants.Licensee", on_delete=models.CASCADE, related_name="brand"
    )
    app_name = models.CharField(max_length=60)
    logo = models.FileField(upload_to=brand_image_path, blank=True, max_length=200)
    icon = models.FileField(upload_to=brand_image_path, blank=True, max_length=200)
    icon_small = models.FileField(upload_to=brand_image_path, blank=True, max_length=200)
    favicon = models.FileField(upload_to=brand_image_path, blank=True, max_length=200)
    primary_color = models.CharField(max_length=7)
    accent_color = models.CharField(max_length=7)
    support_email = models.EmailField(blank=True)
    legal_entity_name = models.CharField(max_length=200, blank=True)
    legal_address = models.TextField(max_length=500, blank=True)
    privacy_policy_url = models.URLField(max_length=500, blank=True)
    terms_url = models.URLField(max_length=500, blank=True)
    default_language = models.CharField(
        max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    currency_display = models.CharField(
        max_length=8, choices=CurrencyDisplay.choices, default=CurrencyDisplay.SYMBOL
    )
    # Where the licensee's people live: money, numbers and dates follow the region's customs
    # within the language ("en" + "GB" reads 06/12/2026, 05:29), times its zone.
    region = models.CharField(max_length=2, blank=True)  # ISO 3166-1 alpha-2, "" = none
    time_zone = models.CharField(max_length=64, default="UTC")  # IANA, e.g. "Europe/London"
    # Its people's e-mail comes from the licensee, never from Callrix: this address (on one of
    # its verified domains) or no-reply@<its host>, through its own SMTP relay when it has one.
    sender_email = models.EmailField(blank=True)
    smtp_host = models.CharField(max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_username = models.CharField(max_length=255, blank=True)
    smtp_password = models.TextField(blank=True)  # Fernet (kernel.crypto), never plain
    smtp_use_tls = models.BooleanField(default=True)
    # Bumped on every change: asset URLs carry it, so browsers fetch a changed logo at once.
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="brand_primary_hex", condition=Q(primary_color__regex=r"^#[0-9a-f]{6}$")
            ),
            models.CheckConstraint(
                name="brand_accent_hex", condition=Q(accent_color__regex=r"^#[0-9a-f]{6}$")
            ),
            models.CheckConstraint(
                name="brand_language_shipped", condition=Q(default_language__in=["en", "de"])
            ),
            models.CheckConstraint(
                name="brand_currency_display_valid",
                condition=Q(currency_display__in=["symbol", "code"]),
            ),
            models.CheckConstraint(name="brand_app_name_set", condition=~Q(app_name="")),
        ]

    def __str__(self) -> str:
        return self.app_name
