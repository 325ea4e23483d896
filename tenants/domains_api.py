"""A licensee's own domains, managed by its owner and admins on the licensee's host."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from django_tenants.utils import schema_context
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from branding.models import Brand
from branding.selectors import brand_for_licensee
from identity.auth import ADMIN_ROLES, TokenAuth
from kernel.inputs import Line
from tenants import domains, mail_sender
from tenants.models import Domain

router = Router(tags=["admin"])


class DomainIn(Schema):
    domain: Line = Field(max_length=253)


class TxtRecordOut(Schema):
    type: str
    name: str
    value: str


class DomainOut(Schema):
    domain: str
    primary: bool
    verified: bool
    verified_at: datetime | None
    created_at: datetime
    txt_record: TxtRecordOut | None  # what to publish in DNS, until verified


def _domain_out(domain: Domain) -> dict:
    pending = domain.verified_at is None
    return {
        "domain": domain.domain,
        "primary": domain.is_primary,
        "verified": not pending,
        "verified_at": domain.verified_at,
        "created_at": domain.created_at,
        "txt_record": (
            {"type": "TXT", "name": domain.txt_record_name, "value": domain.txt_record_value}
            if pending
            else None
        ),
    }


@router.get("/admin/domains", response=list[DomainOut], auth=TokenAuth(roles=ADMIN_ROLES))
def domain_list(request):
    return [_domain_out(domain) for domain in domains.custom_domain_list(licensee=request.tenant)]


@router.post("/admin/domains", response={201: DomainOut}, auth=TokenAuth(roles=ADMIN_ROLES))
def domain_add(request, payload: DomainIn):
    domain = domains.custom_domain_add(licensee=request.tenant, domain=payload.domain)
    return Status(201, _domain_out(domain))


@router.post(
    "/admin/domains/{domain}/verify", response=DomainOut, auth=TokenAuth(roles=ADMIN_ROLES)
)
def domain_verify(request, domain: Line):
    return _domain_out(domains.custom_domain_verify(licensee=request.tenant, domain=domain))


@router.delete("/admin/domains/{domain}", response={204: None}, auth=TokenAuth(roles=ADMIN_ROLES))
def domain_remove(request, domain: Line):
    domains.custom_domain_remove(licensee=request.tenant, domain=domain)
    return Status(204, None)


class MailSenderIn(Schema):
    sender_email: Line = Field(default="", max_length=254)
    smtp_host: Line = Field(default="", max_length=255)
    smtp_port: int = Field(default=587, ge=1, le=65_535)
    smtp_username: Line = Field(default="", max_length=255)
    smtp_password: Line | None = Field(default=None, max_length=500)  # None keeps the stored one
    smtp_use_tls: bool = True


class MailSenderOut(Schema):
    from_address: str  # what the platform's e-mails say in From
    reply_to: str
    sender_email: str
    own_domains: list[str]
    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_has_password: bool
    smtp_use_tls: bool


def _mail_sender_out(licensee) -> dict:
    row = Brand.objects.filter(licensee_id=licensee.pk).first()
    # From the row just written (the cached brand is dropped only once the change commits).
    brand = dataclasses.replace(
        brand_for_licensee(licensee), sender_email=row.sender_email if row else ""
    )
    return {
        "from_address": brand.mail_from_address,
        "reply_to": brand.support_email,
        "sender_email": row.sender_email if row else "",
        "own_domains": mail_sender.own_mail_domains(licensee=licensee),
        "smtp_host": row.smtp_host if row else "",
        "smtp_port": row.smtp_port if row else 587,
        "smtp_username": row.smtp_username if row else "",
        "smtp_has_password": bool(row and row.smtp_password),
        "smtp_use_tls": row.smtp_use_tls if row else True,
    }


@router.get("/admin/mail-sender", response=MailSenderOut, auth=TokenAuth(roles=ADMIN_ROLES))
def mail_sender_get(request):
    with schema_context("public"):
        return _mail_sender_out(request.tenant)


@router.put("/admin/mail-sender", response=MailSenderOut, auth=TokenAuth(roles=ADMIN_ROLES))
def mail_sender_put(request, payload: MailSenderIn):
    mail_sender.mail_sender_set(licensee=request.tenant, **payload.dict())
    with schema_context("public"):
        return _mail_sender_out(request.tenant)
