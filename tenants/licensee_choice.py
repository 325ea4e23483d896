"""Which licensees a command acts on: the one its `--licensee`/slug names, or all of them."""

from __future__ import annotations

from django.core.management.base import CommandError

from tenants import selectors
from tenants.models import Licensee


def licensee_named(slug: str) -> Licensee:
    licensee = selectors.licensee_get_by_slug(slug=slug)
    if licensee is None:
        raise CommandError(f"No licensee with the slug '{slug}'.")
    return licensee


def licensees_chosen(slug: str | None, *, include_terminated: bool = True) -> list[Licensee]:
    if slug:
        return [licensee_named(slug)]
    everyone = selectors.licensee_list()
    if not include_terminated:
        everyone = everyone.exclude(status=Licensee.Status.TERMINATED)
    return list(everyone)
