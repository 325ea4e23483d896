"""`callrix demo`: everything needed to try Callrix on one machine, in one command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from callrix import offline
from callrix.demo import DEMO_SLUG, demo_ensure, demo_stripe_connect, demo_uses_stripe_sandbox
from tenants import selectors


class Command(BaseCommand):
    help = (
        "Start Callrix for trying it out: embedded PostgreSQL/Redis when DATABASE_URL/REDIS_URL "
        "are unset, migrations, the demo licensee 'aurora', a web server and a worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--web-workers", type=int, default=3)
        parser.add_argument(
            "--setup-only",
            action="store_true",
            help="migrate and create the demo data, then exit without serving",
        )

    def handle(self, *args, **options):
        port = options["port"]
        os.environ["SITE_PORT"] = str(port)
        settings.SITE_PORT = str(port)
        self.stdout.write("Migrating …")
        call_command("migrate", verbosity=0)
        logins = demo_ensure()
        licensee = selectors.licensee_get_by_slug(slug=DEMO_SLUG)
        children: list[subprocess.Popen] = []
        if demo_uses_stripe_sandbox(licensee=licensee):
            process, url = offline.start(offline.STRIPE)
            children.append(process)
            os.environ["STRIPE_API_BASE"] = settings.STRIPE_API_BASE = url
            demo_stripe_connect(
                licensee=licensee, sandbox_url=url, web_origin=f"http://127.0.0.1:{port}"
            )
            self.stdout.write(f"Stripe sandbox on {url} (no real Stripe keys configured).")
        if options["setup_only"]:
            for child in children:
                child.terminate()
            self.stdout.write(self.style.SUCCESS("Demo data ready."))
            return

        callrix = [sys.executable, "-m", "callrix.cli"]
        children += [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "callrix.wsgi:application",
                    "--bind",
                    f"{options['host']}:{port}",
                    "--workers",
                    str(options["web_workers"]),
                    "--access-logfile",
                    "-",
                    "--graceful-timeout",
                    "5",
                ]
            ),
            subprocess.Popen([*callrix, "worker", "--processes", "1", "--threads", "4"]),
        ]
        self._print_welcome(port, logins)
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
            self.stderr.write("A Callrix process stopped; shutting down the others.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping …")
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()

    def _print_welcome(self, port: int, logins) -> None:
        base = settings.BASE_DOMAIN
        tenant = f"http://{DEMO_SLUG}.{base}:{port}"
        lines = [
            "",
            self.style.SUCCESS("Callrix is running."),
            f"  Aurora Psychics (licensee):  {tenant}/api/v1/health",
            f"  Licensee API docs:           {tenant}/api/v1/docs",
            f"  Callrix staff admin:         http://{base}:{port}/admin/",
            f"  Platform API docs:           http://{base}:{port}/api/platform/v1/docs",
            "  Without *.localhost name resolution: curl -H 'Host: aurora.localhost' "
            f"http://127.0.0.1:{port}/api/v1/health",
            "",
            "Logins:",
        ]
        for login in logins:
            lines.append(f"  {login.role:<10} {login.email:<24} {login.password}  ({login.where})")
        if settings.STRIPE_API_BASE.startswith("http://127.0.0.1"):
            lines += [
                "",
                "Offline payments: create a top-up (POST /api/v1/wallet/topups as an end user),",
                "then complete its card payment with:  callrix sandbox pay <top-up id>",
            ]
        lines += ["", "Press Ctrl-C to stop."]
        self.stdout.write("\n".join(lines))
