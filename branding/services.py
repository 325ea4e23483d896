"""Changes to a licensee's brand. Each is one transaction in the public schema and drops the
brand cache once committed, so every process shows the change on its next request."""

from __future__ import annotations

from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from branding import images
from branding.contrast import AA_TEXT, HEX_COLOUR, WHITE, contrast_ratio
from branding.errors import BrandColourContrast, BrandError
from branding.mail import branded_email_send
from branding.models import Brand
from branding.selectors import DEFAULT_ACCENT, DEFAULT_PRIMARY, brand_cache, brand_for_licensee
from kernel.crypto import encrypt
from kernel.formatting import valid_time_zone

TEXT_FIELDS = {
    "app_name": 60,
    "legal_entity_name": 200,
    "legal_address": 500,
}
# What each colour carries, for the contrast rule and its error message.
COLOUR_ROLES = {
    "primary_color": "white text on buttons and the header",
    "accent_color": "links and focus outlines on the white page",
}
_url_check = URLValidator(schemes=["https", "http"])


def _colour_clean(field: str, value: str) -> str:
    colour = (value or "").strip().lower()
    if len(colour) == 4 and colour.startswith("#"):  # #abc -> #aabbcc
        colour = "#" + "".join(c * 2 for c in colour[1:])
    if not HEX_COLOUR.match(colour):
        raise BrandError("Give a colour as #rrggbb, e.g. #4b2a7b.", field=field)
    ratio = contrast_ratio(colour, WHITE)
    if ratio < AA_TEXT:
        raise BrandColourContrast(
            f"{colour} against white reaches only {ratio:.2f}:1; as {COLOUR_ROLES[field]} "
            f"it needs at least {AA_TEXT}:1 (WCAG 2.1 AA). Choose a darker colour.",
            field=field,
        )
    return colour


def _clean(fields: dict) -> dict:
    cleaned: dict = {}
    for field, value in fields.items():
        if value is None:
            continue
        if field in TEXT_FIELDS:
            value = value.strip()
            if len(value) > TEXT_FIELDS[field]:
                raise BrandError(
                    f"At most {TEXT_FIELDS[field]} characters are allowed.", field=field
                )
            if field == "app_name" and not value:
                raise BrandError("The app needs a name.", field=field)
        elif field in COLOUR_ROLES:
            value = _colour_clean(field, value)
        elif field == "support_email":
            value = value.strip().lower()
            if value:
                try:
                    validate_email(value)
                except ValidationError:
                    raise BrandError("This is not a valid e-mail address.", field=field) from None
        elif field in ("privacy_policy_url", "terms_url"):
            value = value.strip()
            if value:
                try:
                    _url_check(value)
                except ValidationError:
                    raise BrandError(
                        "Give a full web address starting with https://.", field=field
                    ) from None
        elif field == "default_language":
            if value not in Brand.Language.values:
                raise BrandError(f"Choose one of: {', '.join(Brand.Language.values)}.", field=field)
        elif field == "region":
            value = value.strip().upper()
            if value and (len(value) != 2 or not value.isalpha()):
                raise BrandError(_("Give a two-letter country code, e.g. GB."), field=field)
        elif field == "time_zone":
            value = value.strip()
            if not valid_time_zone(value):
                raise BrandError(_("Give a time zone such as Europe/London."), field=field)
        elif field == "currency_display":
            if value not in Brand.CurrencyDisplay.values:
                raise BrandError(
                    f"Choose one of: {', '.join(Brand.CurrencyDisplay.values)}.", field=field
                )
        else:
            raise BrandError(f"{field} is not part of a brand.", field=field)
        cleaned[field] = value
    return cleaned


def _row_for_update(licensee_id: int, app_name: str) -> Brand:
    row = Brand.objects.select_for_update().filter(licensee_id=licensee_id).first()
    if row is None:
        row = Brand.objects.create(
            licensee_id=licensee_id,
            app_name=app_name,
            primary_color=DEFAULT_PRIMARY,
            accent_color=DEFAULT_ACCENT,
        )
    return row


def brand_update(*, licensee, **fields) -> Brand:
    """Change any of the brand's text, colour and language settings (None leaves a field
    as it is). A licensee without a brand row gets one with the defaults first."""
    cleaned = _clean(fields)
    with schema_context("public"), transaction.atomic():
        row = _row_for_update(licensee.pk, licensee.display_name)
        for field, value in cleaned.items():
            setattr(row, field, value)
        row.version += 1
        row.save()
        transaction.on_commit(brand_cache.invalidate)
    return row


def brand_image_set(*, licensee, kind: str, content: bytes) -> Brand:
    """Store a new logo, icon or favicon after checking it (type, size, dimensions)."""
    if kind not in images.RULES:
        raise BrandError(f"Choose one of: {', '.join(images.RULES)}.", field="kind")
    files = images.image_normalise(kind=kind, content=content)
    with schema_context("public"), transaction.atomic():
        row = _row_for_update(licensee.pk, licensee.display_name)
        replaced = [getattr(row, name).name for name in files if getattr(row, name)]
        for name, image in files.items():
            getattr(row, name).save(
                f"{name}-{image.digest}.png", ContentFile(image.png), save=False
            )
        row.version += 1
        row.save()
        transaction.on_commit(brand_cache.invalidate)
        transaction.on_commit(lambda: _files_delete(replaced, keep=row))
    return row


def brand_image_remove(*, licensee, kind: str) -> Brand:
    if kind not in images.RULES:
        raise BrandError(f"Choose one of: {', '.join(images.RULES)}.", field="kind")
    names = ["icon", "icon_small"] if kind == "icon" else [kind]
    with schema_context("public"), transaction.atomic():
        row = _row_for_update(licensee.pk, licensee.display_name)
        removed = [getattr(row, name).name for name in names if getattr(row, name)]
        for name in names:
            setattr(row, name, "")
        row.version += 1
        row.save()
        transaction.on_commit(brand_cache.invalidate)
        transaction.on_commit(lambda: _files_delete(removed, keep=row))
    return row


def _files_delete(names: list[str], *, keep: Brand) -> None:
    in_use = {getattr(keep, f).name for f in ("logo", "icon", "icon_small", "favicon")}
    for name in names:
        if name and name not in in_use:
            default_storage.delete(name)


def brand_mail_set(
    *,
    licensee,
    sender_email: str,
    own_domains: Collection[str],
    smtp_host: str = "",
    smtp_port: int = 587,
    smtp_username: str = "",
    smtp_password: str | None = None,
    smtp_use_tls: bool = True,
) -> Brand:
    """Where the licensee's mail comes from. `sender_email` (blank: no-reply@ its host) must be
    on one of `own_domains`, its host and its verified domains; an SMTP relay is optional
    (`smtp_password` None keeps the stored one)."""
    sender = sender_email.strip().lower()
    if sender:
        try:
            validate_email(sender)
        except ValidationError:
            raise BrandError(
                _("This is not a valid e-mail address."), field="sender_email"
            ) from None
        if sender.rsplit("@", 1)[1] not in {domain.lower() for domain in own_domains}:
            raise BrandError(
                _("The sender must be on your platform's host or one of your verified domains."),
                field="sender_email",
            )
    host = smtp_host.strip()
    if host and not 0 < smtp_port < 65_536:
        raise BrandError(_("Give a port between 1 and 65535."), field="smtp_port")
    with schema_context("public"), transaction.atomic():
        row = _row_for_update(licensee.pk, licensee.display_name)
        row.sender_email = sender
        row.smtp_host = host
        row.smtp_port = smtp_port
        row.smtp_username = smtp_username.strip() if host else ""
        row.smtp_use_tls = smtp_use_tls
        if not host:
            row.smtp_password = ""
        elif smtp_password is not None:
            row.smtp_password = encrypt(smtp_password) if smtp_password else ""
        row.version += 1
        row.save()
        transaction.on_commit(brand_cache.invalidate)
    return row


def brand_mail_test_send(*, licensee, to: str) -> None:
    """A test message to `to` from the licensee's sender, through its relay when it has one:
    the way to see the sender work before the platform's people get mail from it. Queued like
    every mail (branding.outbox); one that cannot be delivered is kept as undelivered mail."""
    brand = brand_for_licensee(licensee)
    branded_email_send(
        to=[to],
        subject=_("Test message from %(name)s") % {"name": brand.app_name},
        paragraphs=[
            _("This message shows how your platform's e-mail reaches people: from %(sender)s.")
            % {"sender": brand.mail_from_address},
            _("If you read it, your sender works. Nothing else needs doing."),
        ],
        brand=brand,
    )
