"""One builder for every e-mail a person gets from the platform. On a licensee's behalf it
carries the licensee's brand (sender name, logo, colours, and a footer with its legal entity,
address and privacy policy); Callrix's own mail to its licensees carries Callrix's."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.utils import translation

from branding.selectors import BrandView, brand_current, brand_smtp_relay


@dataclass(frozen=True)
class EmailAction:
    label: str
    url: str


def branded_email_build(
    *,
    to: list[str],
    subject: str,
    paragraphs: list[str],
    action: EmailAction | None = None,
    brand: BrandView | None = None,
    origin: str = "",
    language: str | None = None,
) -> EmailMultiAlternatives:
    """A plain-text and HTML e-mail in the brand of the current schema (or `brand`).
    `origin` is the web origin of the brand's host, for the logo's absolute URL."""
    brand = brand or brand_current()
    context = {
        "brand": brand,
        "subject": subject,
        "paragraphs": paragraphs,
        "action": action,
        "logo_url": f"{origin}{brand.logo_url}" if origin and brand.logo_url else "",
    }
    # The caller translated subject and paragraphs in the active language (the request's,
    # or the brand's default that a job activates); the frame follows the same language.
    with translation.override(language or translation.get_language() or brand.default_language):
        text = render_to_string("branding/email.txt", context)
        html = render_to_string("branding/email.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=formataddr((brand.app_name, brand.mail_from_address)),
        to=to,
        reply_to=[brand.support_email] if brand.support_email else None,
        connection=_licensee_relay(brand),
    )
    message.attach_alternative(html, "text/html")
    return message


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
SMTP_TIMEOUT_SECONDS = 15


def _licensee_relay(brand: BrandView) -> BaseEmailBackend | None:
    """The licensee's own SMTP relay where it has one and mail goes out over SMTP at all (in
    development the configured backend, e.g. the demo's mail folder, keeps every message)."""
    if brand.licensee_id is None or not brand.has_smtp or settings.EMAIL_BACKEND != SMTP_BACKEND:
        return None
    relay = brand_smtp_relay(licensee_id=brand.licensee_id)
    if relay is None:
        return None
    return get_connection(
        SMTP_BACKEND,
        host=relay.host,
        port=relay.port,
        username=relay.username or None,
        password=relay.password or None,
        use_tls=relay.use_tls,
        timeout=SMTP_TIMEOUT_SECONDS,
    )


def branded_email_send(**kwargs) -> None:
    branded_email_build(**kwargs).send()
