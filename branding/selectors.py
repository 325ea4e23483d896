"""The brand a licensee's hosts show, read through a cache that every brand change drops
(branding.services), so a change shows on the next request in every process."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import translation
from django_tenants.utils import schema_context

from branding.models import Brand
from kernel.crypto import decrypt
from kernel.formatting import Formats, locale_code
from kernel.generational_cache import GenerationalCache

DEFAULT_PRIMARY = "#1f4e79"
DEFAULT_ACCENT = "#9d2a5b"
brand_cache: GenerationalCache[BrandView] = GenerationalCache("branding:brand", timeout=3600)


@dataclass(frozen=True)
class BrandView:
    """Everything a page, an e-mail, the manifest or the mobile apps need of a brand."""

    licensee_id: int | None
    slug: str
    app_name: str
    currency: str
    primary_color: str = DEFAULT_PRIMARY
    accent_color: str = DEFAULT_ACCENT
    support_email: str = ""
    legal_entity_name: str = ""
    legal_address: str = ""
    privacy_policy_url: str = ""
    terms_url: str = ""
    default_language: str = "en"
    currency_display: str = "symbol"
    region: str = ""
    time_zone: str = "UTC"
    sender_email: str = ""
    has_smtp: bool = False
    has_logo: bool = False
    has_icon: bool = False
    has_favicon: bool = False
    version: int = 0

    @property
    def short_name(self) -> str:
        return self.app_name if len(self.app_name) <= 12 else self.app_name.split()[0][:12]

    def asset_url(self, name: str) -> str:
        """Same-origin path of a brand asset; the version makes a changed image a new URL."""
        return f"/brand/{name}?v={self.version}"

    @property
    def theme_url(self) -> str:
        return self.asset_url("theme.css")

    @property
    def logo_url(self) -> str:
        return self.asset_url("logo.png") if self.has_logo else ""

    @property
    def icon_url(self) -> str:
        return self.asset_url("icon-512.png") if self.has_icon else ""

    @property
    def favicon_url(self) -> str:
        # /favicon.ico always answers on a licensee host (branding.views.favicon).
        return f"/favicon.ico?v={self.version}" if self.licensee_id else ""

    @property
    def mail_from_address(self) -> str:
        """The address a licensee's mail comes from: its chosen sender on a verified domain,
        else no-reply@ its own host; Callrix's own mail keeps DEFAULT_FROM_EMAIL."""
        if self.licensee_id is None:
            return str(settings.DEFAULT_FROM_EMAIL)
        return self.sender_email or f"no-reply@{self.slug}.{settings.BASE_DOMAIN}"

    def formats(self, language: str | None = None) -> Formats:
        """How this brand's people read money and time, in `language` (default: the active
        one) with the brand's region and time zone."""
        return Formats(
            locale=locale_code(language or translation.get_language() or "en", self.region),
            time_zone=self.time_zone,
            currency=self.currency,
            currency_code=self.currency_display == Brand.CurrencyDisplay.CODE,
        )

    def money(self, amount_minor: int) -> str:
        """An amount as this brand shows money in the active language: "€12.50", "12,50 €"
        or "12.50 EUR"."""
        return self.formats().money(amount_minor)


def _load(licensee_id: int, slug: str, display_name: str, currency: str) -> BrandView:
    with schema_context("public"):  # the connection may be on the licensee's schema
        row = Brand.objects.filter(licensee_id=licensee_id).first()
    if row is None:
        return BrandView(
            licensee_id=licensee_id, slug=slug, app_name=display_name, currency=currency
        )
    return BrandView(
        licensee_id=licensee_id,
        slug=slug,
        app_name=row.app_name,
        currency=currency,
        primary_color=row.primary_color,
        accent_color=row.accent_color,
        support_email=row.support_email,
        legal_entity_name=row.legal_entity_name,
        legal_address=row.legal_address,
        privacy_policy_url=row.privacy_policy_url,
        terms_url=row.terms_url,
        default_language=row.default_language,
        currency_display=row.currency_display,
        region=row.region,
        time_zone=row.time_zone,
        sender_email=row.sender_email,
        has_smtp=bool(row.smtp_host),
        has_logo=bool(row.logo),
        has_icon=bool(row.icon),
        has_favicon=bool(row.favicon),
        version=row.version,
    )


def brand_for_licensee(licensee) -> BrandView:
    """The brand of a licensee (a Licensee, or the light one the host middleware builds)."""
    return brand_cache.get(
        str(licensee.pk),
        lambda: _load(licensee.pk, licensee.slug, licensee.display_name, licensee.currency),
        dump=dataclasses.asdict,
        restore=lambda stored: BrandView(**stored),
    )


def platform_brand() -> BrandView:
    """Callrix's own brand, for the public host and Callrix's mail to its licensees."""
    return BrandView(licensee_id=None, slug="", app_name="Callrix", currency="EUR")


def brand_current() -> BrandView:
    """The brand of the schema the connection is on: a licensee's, or Callrix's on public."""
    tenant = getattr(connection, "tenant", None)
    if tenant is None or getattr(tenant, "pk", None) is None or tenant.schema_name == "public":
        return platform_brand()
    return brand_for_licensee(tenant)


def brand_row_get(*, licensee_id: int) -> Brand | None:
    with schema_context("public"):
        return Brand.objects.filter(licensee_id=licensee_id).first()


@dataclass(frozen=True)
class SmtpRelay:
    host: str
    port: int
    username: str
    password: str
    use_tls: bool


def brand_smtp_relay(*, licensee_id: int) -> SmtpRelay | None:
    """The licensee's own SMTP relay, its password decrypted, or None. Read at send time,
    never cached."""
    with schema_context("public"):
        row = Brand.objects.filter(licensee_id=licensee_id).first()
    if row is None or not row.smtp_host:
        return None
    return SmtpRelay(
        host=row.smtp_host,
        port=row.smtp_port,
        username=row.smtp_username,
        password=decrypt(row.smtp_password) if row.smtp_password else "",
        use_tls=row.smtp_use_tls,
    )
