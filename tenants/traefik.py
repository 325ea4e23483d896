"""The dynamic configuration Traefik polls (its HTTP provider) to route licensees' verified
custom domains and get each an HTTP-01 certificate from Let's Encrypt.

`{slug}.{BASE_DOMAIN}` hosts are routed by a wildcard rule with a DNS-01 wildcard certificate
declared in `deploy/compose.yml`; only domains outside BASE_DOMAIN are listed here. The names
below are the ones `deploy/compose.yml` declares (tests/deploy checks that they agree).
"""

from __future__ import annotations

from tenants import selectors

# Declared by labels on the `web` service (Traefik's Docker provider).
WEB_SERVICE = "callrix-web@docker"
MIDDLEWARES = ("callrix-headers@docker",)
ENTRY_POINT = "websecure"
# The certificate resolver using the HTTP-01 challenge (compose.yml's Traefik command).
CERT_RESOLVER = "letsencrypt-http"


def traefik_dynamic_config() -> dict:
    routers = {}
    for domain in selectors.custom_domains_verified():
        # Domain names are stored as validated IDNA labels ([a-z0-9-] and dots), so they
        # cannot break out of the backquoted rule.
        routers[f"custom-domain-{domain.pk}"] = {
            "rule": f"Host(`{domain.domain}`)",
            "entryPoints": [ENTRY_POINT],
            "service": WEB_SERVICE,
            "middlewares": list(MIDDLEWARES),
            "tls": {"certResolver": CERT_RESOLVER},
        }
    return {"http": {"routers": routers}}
