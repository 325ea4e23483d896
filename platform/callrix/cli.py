"""The `callrix` command: Django's management commands, with Callrix's own among them
(`callrix demo`, `callrix licensee …`, `callrix migrate`, `callrix worker` …)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callrix.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "callrix"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
