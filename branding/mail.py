"""One builder for every e-mail a person gets from the platform. On a licensee's behalf it
carries the licensee's brand (sender name, logo, colours, and a footer with its legal entity,
address and privacy policy); Callrix's own mail to its licensees carries Callrix's."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from branding.selectors import BrandView, brand_current


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
    sender_address = settings.DEFAULT_FROM_EMAIL
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=formataddr((brand.app_name, sender_address)),
        to=to,
        reply_to=[brand.support_email] if brand.support_email else None,
    )
    message.attach_alternative(html, "text/html")
    return message


def branded_email_send(**kwargs) -> None:
    branded_email_build(**kwargs).send()
