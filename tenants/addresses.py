"""The URLs people and apps use to reach a licensee or the public site."""

from __future__ import annotations

from django.conf import settings

from kernel.addresses import site_origin


def _origin(host: str) -> str:
    return site_origin(host)


def licensee_host(slug: str) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}"


def licensee_origin(slug: str) -> str:
    return _origin(licensee_host(slug))


def public_origin() -> str:
    return _origin(settings.BASE_DOMAIN)
