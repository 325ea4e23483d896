from __future__ import annotations

from django import template

from branding.selectors import brand_current

register = template.Library()


@register.simple_tag(takes_context=True)
def money(context, amount_minor: int) -> str:
    """{% money amount_minor %}: an amount as the host's brand shows money."""
    request = context.get("request")
    brand = getattr(request, "brand", None) or brand_current()
    return brand.money(int(amount_minor))
