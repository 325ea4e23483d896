"""Parts of the dashboard's own pages that an app above the tenant apps adds.

Compliance imports the tenant apps and is never imported by them, yet two of the dashboard's
pages lead to compliance's dashboard pages: the menu links to the data exports, and an end
user's page offers their data-subject requests. So the dashboard names no such app: each page
has a slot, a list of templates that an app adds to from its AppConfig.ready(), and the page
includes them in that order with its own context. With no app adding, a slot stays empty and
the page links nowhere it cannot reach.

The templates stay among the dashboard's (one look, one translation catalogue); what an app
adds is the decision to show them."""

from __future__ import annotations

MENU = "menu"  # dashboard/base.html: after the licensee's settings, before the team
END_USER = "end_user"  # dashboard/user_detail.html: after "Grant credit"

_slots: dict[str, list[str]] = {MENU: [], END_USER: []}


def contribution_add(*, slot: str, template: str) -> None:
    """Adding the same template again changes nothing (ready() may run more than once)."""
    templates = _slot(slot)
    if template not in templates:
        templates.append(template)


def contributions_for(slot: str) -> tuple[str, ...]:
    return tuple(_slot(slot))


def _slot(slot: str) -> list[str]:
    try:
        return _slots[slot]
    except KeyError:
        raise ValueError(f"The dashboard has no slot {slot!r}; it has {sorted(_slots)}") from None
