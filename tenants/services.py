"""Every change to licensees and their domains."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from identity import services as identity_services
from kernel import money
from kernel.job_outbox.services import job_send_on_commit
from tenants import addresses, provisioning, selectors
from tenants.errors import InvalidLicenseeField, InvalidSlug, LicenseeNotFound, SlugTaken
from tenants.models import Domain, Licensee

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
SLUG_MIN, SLUG_MAX = 3, 40
# Host labels we keep for ourselves or that would confuse people and mail servers.
RESERVED_SLUGS = frozenset(
    {
        "www",
        "admin",
        "api",
        "public",
        "static",
        "media",
        "app",
        "apps",
        "mail",
        "smtp",
        "imap",
        "pop",
        "ftp",
        "webmail",
        "dashboard",
        "status",
        "help",
        "support",
        "docs",
        "blog",
        "billing",
        "auth",
        "login",
        "signup",
        "account",
        "accounts",
        "callrix",
        "cdn",
        "assets",
        "dev",
        "staging",
        "test",
        "demo-admin",
        "root",
        "system",
        "webhooks",
        "traefik",
        "analytics",
        "metrics",
        "internal",
        "ns1",
        "ns2",
        "mx",
        "pg",
        "redis",
        "spare",
    }
)


@dataclass(frozen=True)
class ProvisionedLicensee:
    licensee: Licensee
    owner_email: str
    set_password_url: str | None


def slug_validate(slug: str) -> str:
    if not isinstance(slug, str) or not slug:
        raise InvalidSlug("A slug is required.", field="slug")
    if not (SLUG_MIN <= len(slug) <= SLUG_MAX):
        raise InvalidSlug(
            f"The slug must be {SLUG_MIN} to {SLUG_MAX} characters long.", field="slug"
        )
    if not SLUG_PATTERN.match(slug) or "--" in slug:
        raise InvalidSlug(
            "The slug may use lowercase letters, digits and single hyphens, and must start "
            "and end with a letter or digit.",
            field="slug",
        )
    if slug in RESERVED_SLUGS or slug.startswith("spare-") or slug.startswith("pg-"):
        raise InvalidSlug(f"The slug '{slug}' is reserved.", field="slug")
    return slug


def _schema_name_for(slug: str) -> str:
    return slug.replace("-", "_")


def _currency_validate(currency: str) -> str:
    """An ISO 4217 code Stripe takes payments in (`kernel.money.CURRENCIES`)."""
    if not re.fullmatch(r"[A-Z]{3}", currency or ""):
        raise InvalidLicenseeField(
            "The currency must be an ISO-4217 code such as EUR.", field="currency"
        )
    if not money.is_supported(currency):
        raise InvalidLicenseeField(
            f"{currency} is not a currency Stripe takes payments in; choose another.",
            field="currency",
        )
    return currency


def _email_validate(email: str, field: str) -> str:
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidLicenseeField("Enter a valid e-mail address.", field=field) from None
    return email.lower()


def slug_in_use(slug: str) -> bool:
    """A licensee, its host name or its schema already has this slug."""
    with schema_context("public"):
        return (
            Licensee.objects.filter(slug=slug).exists()
            or Domain.objects.filter(domain=addresses.licensee_host(slug)).exists()
            or selectors.schema_exists(schema_name=_schema_name_for(slug))
        )


def licensee_provision(
    *,
    slug: str,
    display_name: str,
    owner_email: str,
    owner_password: str | None = None,
    owner_password_hash: str | None = None,
    currency: str = "EUR",
    status: str = Licensee.Status.TRIAL,
) -> ProvisionedLicensee:
    """Create a licensee with its schema, primary domain and owner — all or nothing.

    The owner gets `owner_password`, or an already hashed one (`owner_password_hash`, e.g.
    the one its account holder chose at sign-up), or else a one-time link to set one."""
    slug = slug_validate(slug)
    display_name = (display_name or "").strip()
    if not display_name:
        raise InvalidLicenseeField("A display name is required.", field="name")
    owner_email = _email_validate(owner_email, "owner_email")
    currency = _currency_validate(currency)
    schema_name = _schema_name_for(slug)
    host = addresses.licensee_host(slug)

    with schema_context("public"), transaction.atomic():
        if slug_in_use(slug):
            raise SlugTaken(f"The slug '{slug}' is already taken.", field="slug")
        provisioning.schema_take_for(schema_name)
        try:
            with transaction.atomic():
                licensee = Licensee.objects.create(
                    schema_name=schema_name,
                    slug=slug,
                    display_name=display_name,
                    status=status,
                    currency=currency,
                )
                Domain.objects.create(
                    domain=host, tenant=licensee, is_primary=True, verified_at=timezone.now()
                )
        except IntegrityError:
            raise SlugTaken(f"The slug '{slug}' is already taken.", field="slug") from None
        with schema_context(schema_name):
            owner = get_user_model().objects.create_user(
                owner_email, owner_password, role="owner", display_name=display_name
            )
            if owner_password_hash:
                owner.password = owner_password_hash
                owner.save(update_fields=["password"])
            link = (
                None
                if owner_password or owner_password_hash
                else identity_services.password_reset_link(
                    user=owner, origin=addresses.licensee_origin(slug)
                )
            )

    _request_pool_refill()
    return ProvisionedLicensee(licensee=licensee, owner_email=owner_email, set_password_url=link)


def _request_pool_refill() -> None:
    from tenants.tasks import spare_pool_refill

    with schema_context("public"):  # the pool is Callrix's: its job waits in public
        job_send_on_commit(spare_pool_refill)


def _licensee_for_update(slug: str) -> Licensee:
    licensee = Licensee.objects.select_for_update().filter(slug=slug).first()
    if licensee is None:
        raise LicenseeNotFound(f"No licensee with the slug '{slug}'.", field="slug")
    return licensee


def licensee_set_status(*, slug: str, status: str) -> Licensee:
    with schema_context("public"), transaction.atomic():
        licensee = _licensee_for_update(slug)
        licensee.status = status
        fields = ["status"]
        if status == Licensee.Status.TERMINATED and licensee.terminated_at is None:
            licensee.terminated_at = timezone.now()
            fields.append("terminated_at")
        licensee.save(update_fields=fields)
    return licensee


def licensee_suspend(*, slug: str) -> Licensee:
    """Stop serving a licensee's hosts; its data stays untouched."""
    return licensee_set_status(slug=slug, status=Licensee.Status.SUSPENDED)


def licensee_reactivate(*, slug: str) -> Licensee:
    with schema_context("public"):
        licensee = selectors.licensee_get_by_slug(slug=slug)
        if licensee is None:
            raise LicenseeNotFound(f"No licensee with the slug '{slug}'.", field="slug")
        if licensee.status == Licensee.Status.TERMINATED:
            raise InvalidLicenseeField(
                "A terminated licensee cannot be reactivated.", field="status"
            )
    return licensee_set_status(slug=slug, status=Licensee.Status.ACTIVE)


def domain_add(*, licensee: Licensee, domain: str, is_primary: bool = False) -> Domain:
    """Route a host name Callrix itself vouches for (verified at once). A licensee's own
    domain goes through `tenants.domains`, which asks for DNS proof first."""
    domain = domain.strip().lower().rstrip(".")
    with schema_context("public"), transaction.atomic():
        if Domain.objects.filter(domain=domain).exists():
            raise InvalidLicenseeField("That domain is already in use.", field="domain")
        created = Domain.objects.create(
            domain=domain, tenant=licensee, is_primary=is_primary, verified_at=timezone.now()
        )
    return created
