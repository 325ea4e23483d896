"""`{% contributions "menu" as parts %}`: the templates other apps add to a slot of a
dashboard page (see `tenant_apps.dashboard.contributions`)."""

from django import template

from tenant_apps.dashboard.contributions import contributions_for

register = template.Library()


@register.simple_tag
def contributions(slot: str) -> tuple[str, ...]:
    return contributions_for(slot)
