"""`callrix demo`: everything needed to try Callrix on one machine, in one command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

from callrix import embedded
from demo import mailbox, offline
from demo.aurora import (
    DEMO_SLUG,
    SANDBOX_KEY_PREFIX,
    demo_callrix_billing,
    demo_calls_play,
    demo_ensure,
    demo_stripe_connect,
    demo_uses_stripe_sandbox,
)
from demo.history import demo_history_ensure
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
        mailbox.use_mail_folder()
        self.stdout.write("Migrating …")
        call_command("migrate", verbosity=0)
        logins = demo_ensure()
        licensee = selectors.licensee_get_by_slug(slug=DEMO_SLUG)
        children = self._start_sandboxes(licensee, port)
        if options["setup_only"]:
            self._history(licensee, port)
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
            subprocess.Popen([*callrix, "scheduler"]),
        ]
        # The banner comes first, once the web server answers; the history's webhooks and the
        # sample calls' go to that server, so they are played only now (none is refused).
        try:
            offline.wait_for_port(port, timeout=60)
        except RuntimeError as error:
            self.stderr.write(f"The web server is slow to start: {error}")
        self._print_welcome(port, logins)
        self._history(licensee, port)
        self._sample_calls(licensee, port)
        # A service manager or `kill` stops the demo as Ctrl-C does, children included.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
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
            # The embedded PostgreSQL/Redis this run started go too (their data stays).
            connections.close_all()
            embedded.stop(only=set(embedded.started_here))

    def _start_sandboxes(self, licensee, port: int) -> list[subprocess.Popen]:
        """Stand-ins for each provider that is not configured for real; their addresses go
        into this process's settings and the environment the web server and worker
        inherit."""
        children: list[subprocess.Popen] = []
        try:
            self._start_each_sandbox(licensee, port, children)
        except BaseException:
            for child in children:  # none is left behind holding its port
                child.terminate()
            raise
        return children

    def _start_each_sandbox(self, licensee, port: int, children: list) -> None:
        web = f"http://127.0.0.1:{port}"
        if demo_uses_stripe_sandbox(licensee=licensee):
            process, url = offline.start(offline.STRIPE)
            children.append(process)
            os.environ["STRIPE_API_BASE"] = settings.STRIPE_API_BASE = url
            demo_stripe_connect(licensee=licensee, sandbox_url=url, web_origin=web)
            self.stdout.write(f"Stripe sandbox on {url} (no real Stripe keys configured).")
            if not settings.CALLRIX_STRIPE_SECRET_KEY:
                billing = demo_callrix_billing(sandbox_url=url, web_origin=web)
                os.environ["CALLRIX_STRIPE_SECRET_KEY"] = billing["secret_key"]
                os.environ["CALLRIX_STRIPE_WEBHOOK_SECRET"] = billing["webhook_secret"]
                settings.CALLRIX_STRIPE_SECRET_KEY = billing["secret_key"]
                settings.CALLRIX_STRIPE_WEBHOOK_SECRET = billing["webhook_secret"]
        if not os.environ.get("LIVEKIT_URL"):
            process, url = offline.start(
                offline.LIVEKIT,
                extra_args=[
                    "--api-key",
                    settings.LIVEKIT_API_KEY,
                    "--api-secret",
                    settings.LIVEKIT_API_SECRET,
                    "--webhook-url",
                    f"{web}/webhooks/livekit",
                    "--webhook-host",
                    "localhost",
                ],
            )
            children.append(process)
            os.environ["LIVEKIT_URL"] = settings.LIVEKIT_URL = url.replace("http://", "ws://")
            self.stdout.write(f"LiveKit sandbox on {url} (no LIVEKIT_URL configured).")
        if not os.environ.get("FCM_API_BASE") and not os.environ.get("FCM_DEFAULT_CREDENTIALS"):
            process, url = offline.start(offline.FCM)
            children.append(process)
            account = offline.post_json(
                f"{url}/_sandbox/service-accounts", {"project_id": "callrix-demo"}
            )
            os.environ["FCM_API_BASE"] = settings.FCM_API_BASE = url
            os.environ["FCM_DEFAULT_CREDENTIALS"] = json.dumps(account)
            settings.FCM_DEFAULT_CREDENTIALS = os.environ["FCM_DEFAULT_CREDENTIALS"]
            self.stdout.write(f"FCM sandbox on {url} (no Firebase credentials configured).")

    def _history(self, licensee, port: int) -> None:
        """Three past weeks for the demo licensee, written once through the Stripe sandbox."""
        stripe_base = offline.recorded_url("stripe")
        if not stripe_base or settings.STRIPE_API_BASE != stripe_base:
            return
        origin = f"http://{DEMO_SLUG}.{settings.BASE_DOMAIN}:{port}"
        if demo_history_ensure(licensee=licensee, stripe_base=stripe_base, origin=origin):
            self.stdout.write("Wrote three weeks of demo history (top-ups, calls).")

    def _sample_calls(self, licensee, port: int) -> None:
        """Once the web server answers (the sandbox's webhooks go to it), play the sample
        calls that give the dashboard's charts real data; skipped with real LiveKit."""
        livekit_url = offline.recorded_url("livekit")
        if not livekit_url or settings.LIVEKIT_URL != livekit_url.replace("http://", "ws://"):
            return
        try:
            offline.wait_for_port(port)
            played = demo_calls_play(licensee=licensee, livekit_url=livekit_url)
        except Exception as error:  # the demo still serves; the charts stay empty
            self.stderr.write(f"Sample calls not played: {error}")
            return
        if played:
            self.stdout.write(f"Played {played} sample calls for the dashboard's charts.")

    def _print_welcome(self, port: int, logins) -> None:
        base = settings.BASE_DOMAIN
        tenant = f"http://{DEMO_SLUG}.{base}:{port}"
        lines = [
            "",
            self.style.SUCCESS("Callrix is running."),
            f"  Aurora Psychics (licensee):  {tenant}/api/v1/health",
            f"  Licensee API docs:           {tenant}/api/v1/docs",
            f"  Callrix staff admin:         http://{base}:{port}/admin/",
            f"  Licensee sign-up:            http://{base}:{port}/signup/",
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
        if settings.LIVEKIT_URL.startswith("ws://127.0.0.1"):
            lines += [
                "Offline calls: call an online advisor (POST /api/v1/calls), accept it as the",
                "advisor (POST /api/v1/calls/<id>/accept), then play the talk with:",
                "  callrix sandbox call <call id> --talk 95",
            ]
        if settings.CALLRIX_STRIPE_SECRET_KEY.startswith(SANDBOX_KEY_PREFIX):
            lines += [
                "Sign-up, offline: choose a plan at /signup/; pay the first invoice on the",
                "sandbox's invoice page; the status page links to the new platform when ready.",
            ]
        lines += [
            f"E-mails: written to {mailbox.mail_folder()} as .eml files; list them with:",
            "  callrix sandbox mail",
            "Payouts: Luna has three weeks of cleared earnings and a Stripe Connect account;",
            "the scheduler pays them within the hour, or now with:  callrix payouts run",
            "",
            "Press Ctrl-C to stop.",
        ]
        self.stdout.write("\n".join(lines))
