"""`callrix demo`: everything needed to try Callrix on one machine, in one command."""

from __future__ import annotations

import json
import os
import secrets
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
    demo_callrix_subscription,
    demo_calls_play,
    demo_ensure,
    demo_stripe_connect,
    demo_uses_stripe_sandbox,
)
from demo.history import demo_history_ensure
from demo.supervisor import Service, Supervisor
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

    # Aurora's plan on Callrix's own sandbox Stripe, made once the web server answers.
    _callrix_subscription_due = False

    def handle(self, *args, **options):
        port = options["port"]
        os.environ["SITE_PORT"] = str(port)
        settings.SITE_PORT = str(port)
        token_file = self._internal_token()
        mailbox.use_mail_folder()
        self.stdout.write("Migrating …")
        call_command("migrate", verbosity=0)
        logins = demo_ensure()
        licensee = selectors.licensee_get_by_slug(slug=DEMO_SLUG)
        self.supervisor = Supervisor(say=lambda line: self.stderr.write(line))
        self._start_sandboxes(licensee, port)
        if options["setup_only"]:
            self._history(licensee, port)
            self.supervisor.stop(timeout=5)
            self.stdout.write(self.style.SUCCESS("Demo data ready."))
            return

        callrix = [sys.executable, "-m", "callrix.cli"]
        web = [
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
        self.supervisor.spawn("web server", lambda: subprocess.Popen(web))
        worker = [*callrix, "worker", "--processes", "1", "--threads", "4"]
        self.supervisor.spawn("worker", lambda: subprocess.Popen(worker))
        self.supervisor.spawn("scheduler", lambda: subprocess.Popen([*callrix, "scheduler"]))
        self._watch_embedded()
        # The banner comes first, once the web server answers; the history's webhooks and the
        # sample calls' go to that server, so they are played only now (none is refused).
        try:
            offline.wait_for_port(port, timeout=60)
        except RuntimeError as error:
            self.stderr.write(f"The web server is slow to start: {error}")
        self._print_welcome(port, logins, token_file)
        if self._callrix_subscription_due:  # its events go to the web server: not before it
            demo_callrix_subscription(licensee=licensee)
        self._history(licensee, port)
        self._sample_calls(licensee, port)
        # A service manager or `kill` stops the demo as Ctrl-C does, children included.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            while True:  # a crashed part is started again, and the log says so
                self.supervisor.check()
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("\nStopping …")
        finally:
            self.supervisor.stop()
            # The embedded PostgreSQL/Redis this run started go too (their data stays).
            connections.close_all()
            embedded.stop(only=set(embedded.started_here))

    def _watch_embedded(self) -> None:
        """The embedded Redis and PostgreSQL run as daemons of their own: brought back when
        they stop answering (only those this machine runs embedded)."""
        if embedded.redis_is_embedded():
            self.supervisor.watch(
                Service("Redis", answers=embedded.redis_answers, start=embedded.redis_url)
            )
        if embedded.postgres_is_embedded():
            self.supervisor.watch(
                Service(
                    "PostgreSQL", answers=embedded.postgres_answers, start=embedded.postgres_url
                )
            )

    def _start_sandboxes(self, licensee, port: int) -> None:
        """Stand-ins for each provider that is not configured for real; their addresses go
        into this process's settings and the environment the web server and worker
        inherit."""
        try:
            self._start_each_sandbox(licensee, port)
        except BaseException:
            self.supervisor.stop(timeout=5)  # none is left behind holding its port
            raise

    def _sandbox(self, sandbox, extra_args: list[str] | None = None) -> str:
        """Start one sandbox under supervision (restarted on its port and state file)."""
        process, url = offline.start(sandbox, extra_args=extra_args)
        first = [process]
        port = int(url.rsplit(":", 1)[1])  # a restart keeps the address Callrix was given

        def start() -> subprocess.Popen:
            if first:
                return first.pop()
            return offline.start(sandbox, extra_args=extra_args, port=port)[0]

        self.supervisor.spawn(f"{sandbox.name} sandbox", start)
        return url

    def _start_each_sandbox(self, licensee, port: int) -> None:
        web = f"http://127.0.0.1:{port}"
        if demo_uses_stripe_sandbox(licensee=licensee):
            url = self._sandbox(offline.STRIPE)
            os.environ["STRIPE_API_BASE"] = settings.STRIPE_API_BASE = url
            demo_stripe_connect(licensee=licensee, sandbox_url=url, web_origin=web)
            self.stdout.write(f"Stripe sandbox on {url} (no real Stripe keys configured).")
            if not settings.CALLRIX_STRIPE_SECRET_KEY:
                billing = demo_callrix_billing(sandbox_url=url, web_origin=web)
                os.environ["CALLRIX_STRIPE_SECRET_KEY"] = billing["secret_key"]
                os.environ["CALLRIX_STRIPE_WEBHOOK_SECRET"] = billing["webhook_secret"]
                settings.CALLRIX_STRIPE_SECRET_KEY = billing["secret_key"]
                settings.CALLRIX_STRIPE_WEBHOOK_SECRET = billing["webhook_secret"]
                self._callrix_subscription_due = True
        if not os.environ.get("LIVEKIT_URL"):
            url = self._sandbox(
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
            os.environ["LIVEKIT_URL"] = settings.LIVEKIT_URL = url.replace("http://", "ws://")
            self.stdout.write(f"LiveKit sandbox on {url} (no LIVEKIT_URL configured).")
        if not os.environ.get("FCM_API_BASE") and not os.environ.get("FCM_DEFAULT_CREDENTIALS"):
            url = self._sandbox(offline.FCM)
            account = offline.post_json(
                f"{url}/_sandbox/service-accounts", {"project_id": "callrix-demo"}
            )
            os.environ["FCM_API_BASE"] = settings.FCM_API_BASE = url
            os.environ["FCM_DEFAULT_CREDENTIALS"] = json.dumps(account)
            settings.FCM_DEFAULT_CREDENTIALS = os.environ["FCM_DEFAULT_CREDENTIALS"]
            self.stdout.write(f"FCM sandbox on {url} (no Firebase credentials configured).")

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

    def _history(self, licensee, port: int) -> None:
        """Three past weeks for the demo licensee, written once through the Stripe sandbox."""
        stripe_base = offline.recorded_url("stripe")
        if not stripe_base or settings.STRIPE_API_BASE != stripe_base:
            return
        origin = f"http://{DEMO_SLUG}.{settings.BASE_DOMAIN}:{port}"
        if demo_history_ensure(licensee=licensee, stripe_base=stripe_base, origin=origin):
            self.stdout.write("Wrote three weeks of demo history (top-ups, calls).")

    @staticmethod
    def _internal_token() -> str:
        """/internal/* wants its token in every mode: the demo makes one (kept across runs in
        a file only its owner reads) unless CALLRIX_INTERNAL_TOKEN is set, and its servers
        inherit it."""
        path = embedded.home() / "internal-token"
        token = os.environ.get("CALLRIX_INTERNAL_TOKEN", "")
        where = "CALLRIX_INTERNAL_TOKEN" if token else str(path)
        if not token:
            if not path.exists():
                path.touch(mode=0o600)
                path.write_text(secrets.token_urlsafe(32))
            token = path.read_text().strip()
        os.environ["CALLRIX_INTERNAL_TOKEN"] = settings.CALLRIX_INTERNAL_TOKEN = token
        return where

    def _print_welcome(self, port: int, logins, token_file: str) -> None:
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
            "  Internal endpoints (Host: web): /internal/traefik, /internal/metrics with",
            f"    'Authorization: Bearer <token>', the token in {token_file}",
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
