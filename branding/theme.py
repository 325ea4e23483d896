"""A brand as CSS custom properties: the site stylesheet (frontend/src/site.css) only ever
refers to these variables, so one small per-licensee sheet re-colours every page."""

from __future__ import annotations

from branding.selectors import BrandView


def theme_css(brand: BrandView) -> str:
    return (
        ":root {\n"
        f"  --brand-primary: {brand.primary_color};\n"
        "  --brand-on-primary: #ffffff;\n"
        f"  --brand-accent: {brand.accent_color};\n"
        "}\n"
    )


def manifest(brand: BrandView) -> dict:
    """The PWA web app manifest (W3C Web Application Manifest)."""
    icons = []
    if brand.has_icon:
        icons = [
            {"src": brand.asset_url("icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": brand.asset_url("icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": brand.asset_url("icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ]
    return {
        "name": brand.app_name,
        "short_name": brand.short_name,
        "lang": brand.default_language,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": brand.primary_color,
        "background_color": "#ffffff",
        "icons": icons,
    }
