"""A licensee's own domains (e.g. `advice.aurora.example`). A domain serves only once a DNS
TXT record at `_callrix-verify.<domain>` carries the token we gave for it: proof that the
licensee controls the domain, so no licensee can take over another's (or anyone's) host."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants import dns
from tenants.errors import DomainNotFound, DomainNotVerified, DomainTaken, InvalidDomain
from tenants.models import Domain, Licensee
from tenants.routing import internal_hosts, public_hosts

LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_CUSTOM_DOMAINS = 5
# An unverified claim blocks the domain for others only this long: nobody can squat a name.
UNVERIFIED_CLAIM_DAYS = 7


def _normalized(domain: str) -> str:
    """As we store domains: lower case, no trailing dot, IDNA (`xn--…`)."""
    raw = (domain or "").strip().lower().rstrip(".")
    try:
        return raw.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidDomain("Enter a valid domain name.", field="domain") from None


def custom_domain_clean(domain: str) -> str:
    """A domain a licensee may claim, normalized, or InvalidDomain."""
    name = _normalized(domain)
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(LABEL.match(label) for label in labels):
        raise InvalidDomain("Enter a domain name such as advice.example.com.", field="domain")
    if labels[-1].isdigit():
        raise InvalidDomain("Enter a domain name, not an IP address.", field="domain")
    base = settings.BASE_DOMAIN.lower()
    if name in public_hosts() or name in internal_hosts() or name.endswith(f".{base}"):
        raise InvalidDomain(f"Addresses under {base} are Callrix's own.", field="domain")
    return name


def custom_domain_list(*, licensee: Licensee) -> list[Domain]:
    with schema_context("public"):
        return list(Domain.objects.filter(tenant_id=licensee.pk).order_by("-is_primary", "domain"))


def _own_domain(licensee: Licensee, domain: str) -> Domain:
    # Another licensee's domain is as unknown as a made-up one.
    found = Domain.objects.filter(tenant_id=licensee.pk, domain=_normalized(domain)).first()
    if found is None:
        raise DomainNotFound("Your platform has no such domain.", field="domain")
    return found


def custom_domain_add(*, licensee: Licensee, domain: str) -> Domain:
    """Claim a domain for the licensee; it routes once `custom_domain_verify` finds the TXT
    record named in the answer."""
    name = custom_domain_clean(domain)
    with schema_context("public"), transaction.atomic():
        existing = Domain.objects.select_for_update().filter(domain=name).first()
        if existing is not None and existing.tenant_id == licensee.pk:
            raise DomainTaken("This domain is already added to your platform.", field="domain")
        if existing is not None:
            stale = timezone.now() - timedelta(days=UNVERIFIED_CLAIM_DAYS)
            if existing.verified_at is not None or existing.created_at > stale:
                raise DomainTaken("That domain is already in use.", field="domain")
            existing.delete()
        custom = Domain.objects.filter(tenant_id=licensee.pk, is_primary=False)
        if custom.count() >= MAX_CUSTOM_DOMAINS:
            raise InvalidDomain(
                f"A platform can have at most {MAX_CUSTOM_DOMAINS} domains of its own.",
                field="domain",
            )
        return Domain.objects.create(
            domain=name,
            tenant_id=licensee.pk,
            is_primary=False,
            verification_token=secrets.token_hex(16),
        )


def custom_domain_verify(*, licensee: Licensee, domain: str) -> Domain:
    """Look up the domain's TXT record and let the domain serve if it carries our token."""
    with schema_context("public"):
        found = _own_domain(licensee, domain)
    if found.verified_at is not None:
        return found
    try:
        records = dns.resolver().txt_records(found.txt_record_name)
    except dns.DnsLookupFailed:
        raise DomainNotVerified(
            "The DNS look-up failed. Please try again in a few minutes.", field="domain"
        ) from None
    if found.txt_record_value not in (record.strip() for record in records):
        raise DomainNotVerified(
            f"No TXT record {found.txt_record_name} with the value {found.txt_record_value} "
            "was found yet. DNS changes can take a while to spread; try again later.",
            field="domain",
        )
    with schema_context("public"), transaction.atomic():
        found = Domain.objects.select_for_update().get(pk=found.pk)
        if found.verified_at is None:
            found.verified_at = timezone.now()
            found.save(update_fields=["verified_at"])  # the signal refreshes the host cache
    return found


def custom_domain_remove(*, licensee: Licensee, domain: str) -> None:
    with schema_context("public"), transaction.atomic():
        found = _own_domain(licensee, domain)
        if found.is_primary:
            raise DomainTaken("The platform's main address cannot be removed.", field="domain")
        found.delete()
