"""The `callrix` command: Django's management commands, with Callrix's own among them
(`callrix demo`, `callrix licensee …`, `callrix migrate`, `callrix worker` …)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def _demo_stripe_sandbox(command: str) -> None:
    """A command run beside a running demo (`callrix payouts run --licensee aurora`, as the
    README says) pays through the demo's Stripe sandbox, as the demo's own processes do:
    its licensees' keys are the sandbox's, which real Stripe does not know. Only outside
    production, only when STRIPE_API_BASE says nothing, never for the demo itself (it starts
    its own sandboxes)."""
    if command == "demo" or os.environ.get("CALLRIX_ENV") == "production":
        return
    if "STRIPE_API_BASE" in os.environ:
        return
    home = Path(os.environ.get("CALLRIX_HOME") or Path.cwd() / ".callrix")
    try:
        recorded = json.loads((home / "sandboxes.json").read_text()).get("stripe")
    except (OSError, ValueError):
        return
    if recorded:
        os.environ["STRIPE_API_BASE"] = recorded


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callrix.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "callrix"
    _demo_stripe_sandbox(args[1] if len(args) > 1 else "")
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
