"""Where a licensee's e-mail comes from: the addresses it may send as (its host and its verified
domains, which tenancy knows) and the brand's sender and SMTP relay (branding stores them)."""

from __future__ import annotations

from branding import services as brand_services
from branding.models import Brand
from tenants import addresses, domains
from tenants.models import Licensee


def own_mail_domains(*, licensee: Licensee) -> list[str]:
    verified = [
        domain.domain
        for domain in domains.custom_domain_list(licensee=licensee)
        if domain.verified_at is not None
    ]
    # The host is one of the verified domains too (the primary one): each named once.
    return list(dict.fromkeys([addresses.licensee_host(licensee.slug), *verified]))


def mail_sender_set(*, licensee: Licensee, **settings: object) -> Brand:
    return brand_services.brand_mail_set(
        licensee=licensee,
        own_domains=own_mail_domains(licensee=licensee),
        **settings,  # type: ignore[arg-type]
    )
