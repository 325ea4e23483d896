"""A licensee's own domains, managed by its owner and admins on the licensee's host."""

from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from identity.auth import ADMIN_ROLES, TokenAuth
from kernel.inputs import Line
from tenants import domains
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
