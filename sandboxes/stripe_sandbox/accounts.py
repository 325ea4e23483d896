"""The platform accounts the sandbox answers for (a licensee's, or Callrix's own), and the
`account` object Stripe shows for one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandboxes.stripe_sandbox.objects import unix_time


@dataclass
class SandboxAccount:
    """A platform Stripe account the sandbox answers for: a licensee's, or Callrix's own."""

    id: str
    secret_key: str
    publishable_key: str
    webhook_secret: str
    webhook_url: str | None = None
    webhook_host: str | None = None
    # The Connect endpoint: Stripe sends events of connected accounts only to an endpoint
    # registered with `connect=true`, signed with that endpoint's own secret.
    connect_webhook_secret: str = ""
    connect_webhook_url: str | None = None
    connect_webhook_host: str | None = None
    display_name: str = ""
    email: str = ""
    created: int = field(default_factory=unix_time)
    connected_accounts: list[str] = field(default_factory=list)

    def credentials(self) -> dict[str, Any]:
        return {
            "account_id": self.id,
            "secret_key": self.secret_key,
            "publishable_key": self.publishable_key,
            "webhook_secret": self.webhook_secret,
            "webhook_url": self.webhook_url,
            "webhook_host": self.webhook_host,
            "connect_webhook_secret": self.connect_webhook_secret,
            "connect_webhook_url": self.connect_webhook_url,
            "connect_webhook_host": self.connect_webhook_host,
        }

    def endpoint(self, connect: bool) -> tuple[str | None, str | None, str]:
        """(url, host, signing secret) of the account endpoint or of the Connect one."""
        if connect:
            return self.connect_webhook_url, self.connect_webhook_host, self.connect_webhook_secret
        return self.webhook_url, self.webhook_host, self.webhook_secret


def platform_account_object(account: SandboxAccount) -> dict[str, Any]:
    return {
        "id": account.id,
        "object": "account",
        "type": "standard",
        "created": account.created,
        "email": account.email,
        "country": "US",
        "default_currency": "usd",
        "charges_enabled": True,
        "payouts_enabled": True,
        "details_submitted": True,
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "requirements": requirements(due=[]),
        "business_profile": {"name": account.display_name, "url": None},
        "settings": {"dashboard": {"display_name": account.display_name, "timezone": "Etc/UTC"}},
        "metadata": {},
    }


def requirements(due: list[str]) -> dict[str, Any]:
    return {
        "alternatives": [],
        "currently_due": list(due),
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
        "errors": [],
        "current_deadline": None,
        "disabled_reason": "requirements.past_due" if due else None,
    }
