"""`callrix loadtest` (scripts/loadtest): the real stack on loopback under a bounded Locust
mix, then the figures per endpoint and the checks that nothing failed and the books hold."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils import timezone
from django_tenants.utils import tenant_context

from callrix import embedded
from demo import mailbox
from demo.aurora import DEMO_PASSWORD, DEMO_PEOPLE, DEMO_SLUG, demo_ensure, demo_stripe_connect
from demo.loadtest import checks, stack
from demo.loadtest.people import LOAD_DOMAIN, LOAD_PASSWORD, load_people_ensure
from demo.supervisor import Supervisor
from tenant_apps.calls import livekit_gateway
from tenant_apps.calls.models import Call
from tenant_apps.payments.models import TopUp
from tenants import selectors

LOCUSTFILE = Path(settings.BASE_DIR) / "tests" / "load" / "locustfile.py"
DRAIN_SECONDS = 60  # after the mix: webhooks and jobs still on their way


class Command(BaseCommand):
    help = (
        "Load test: start the stack on loopback (gunicorn, job workers, scheduler, pgbouncer "
        "when installed, the sandboxes), drive a Locust mix on the demo licensee for a "
        "bounded time, print throughput and p50/p95/p99 per endpoint, write Locust's HTML "
        "report, and fail unless there were 0 errors, no negative wallet, every call billed "
        "for its talk and a clean `ledger verify`."
    )

    def add_arguments(self, parser):
        parser.add_argument("--run-time", type=int, default=60, help="seconds of load")
        parser.add_argument("--users", type=int, default=16, help="simulated people at once")
        parser.add_argument("--pairs", type=int, default=6, help="callers (each with an advisor)")
        parser.add_argument("--spawn-rate", type=float, default=8.0, help="people started a second")
        parser.add_argument("--web-workers", type=int, default=2)
        parser.add_argument("--job-workers", type=int, default=2)
        parser.add_argument(
            "--report-dir",
            type=Path,
            default=None,
            help="where the HTML report, the CSV statistics and the servers' logs go "
            "(default .callrix/loadtest/)",
        )

    def handle(self, *args, **options):
        if options["users"] < options["pairs"] + 2:
            raise CommandError(
                "--users must leave room for the owner and a visitor beside the pairs."
            )
        if not livekit_gateway.is_sandbox() and os.environ.get("LIVEKIT_API_SECRET"):
            raise CommandError("The load test plays calls through the LiveKit sandbox only.")
        report = (options["report_dir"] or embedded.home() / "loadtest").resolve()
        shutil.rmtree(report, ignore_errors=True)
        report.mkdir(parents=True)
        port = stack.free_port()
        web_origin = f"http://127.0.0.1:{port}"
        os.environ["SITE_PORT"] = settings.SITE_PORT = str(port)
        os.environ.update(stack.UNTHROTTLED)
        mailbox.use_mail_folder()
        self.stdout.write("Migrating and preparing the demo licensee …")
        call_command("migrate", verbosity=0)
        demo_ensure()
        licensee = selectors.licensee_get_by_slug(slug=DEMO_SLUG)
        supervisor = Supervisor(say=lambda line: self.stderr.write(line))
        try:
            urls = stack.sandboxes_start(supervisor, web_origin=web_origin)
            demo_stripe_connect(
                licensee=licensee, sandbox_url=urls["stripe"], web_origin=web_origin
            )
            bouncer = stack.pgbouncer_start(supervisor, report / "pgbouncer")
            if bouncer:
                os.environ["DATABASE_URL"] = bouncer
            self.stdout.write(
                f"pgbouncer (session mode) on {bouncer}"
                if bouncer
                else "pgbouncer not installed: the servers connect to PostgreSQL directly"
            )
            stack.servers_start(
                supervisor,
                port=port,
                web_workers=options["web_workers"],
                job_workers=options["job_workers"],
                logs=report / "logs",
            )
            pairs = load_people_ensure(
                licensee=licensee, pairs=options["pairs"], owner_email=DEMO_PEOPLE[0][1]
            )
            stack.warm_up(
                port, host=f"{DEMO_SLUG}.{settings.BASE_DOMAIN}", rounds=4 * options["web_workers"]
            )
            findings = self._run(options, report, port, pairs, supervisor, licensee)
        finally:
            supervisor.stop()
            connections.close_all()
        call_command("ledger", "verify", stdout=self.stdout)  # raises on a breach
        if findings:
            for finding in findings:
                self.stderr.write(f"  {finding}")
            raise CommandError(f"Load test failed: {len(findings)} finding(s) above.")
        self.stdout.write(self.style.SUCCESS("Load test passed: 0 errors, the books hold."))

    def _run(self, options, report: Path, port: int, pairs, supervisor, licensee) -> list[str]:
        people = report / "people.json"
        people.write_text(
            json.dumps(
                {
                    "pairs": pairs,
                    "password": LOAD_PASSWORD,
                    "owner_email": DEMO_PEOPLE[0][1],
                    "owner_password": DEMO_PASSWORD,
                }
            )
        )
        talk_log = report / "talk.jsonl"
        talk_log.touch()
        env = {
            **os.environ,
            "LOADTEST_PEOPLE": str(people),
            "LOADTEST_HOST": f"{DEMO_SLUG}.{settings.BASE_DOMAIN}",
            "LOADTEST_TALK_LOG": str(talk_log),
        }
        locust = [
            sys.executable,
            "-m",
            "locust",
            "--locustfile",
            str(LOCUSTFILE),
            "--headless",
            "--host",
            f"http://127.0.0.1:{port}",
            "--users",
            str(options["users"]),
            "--spawn-rate",
            str(options["spawn_rate"]),
            "--run-time",
            f"{options['run_time']}s",
            "--stop-timeout",
            "30",  # a call in progress is hung up, not abandoned
            "--csv",
            str(report / "locust"),
            "--html",
            str(report / "report.html"),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ]
        since = timezone.now()
        began = time.monotonic()
        self.stdout.write(
            f"Driving {options['users']} people for {options['run_time']} s at "
            f"http://127.0.0.1:{port} …"
        )
        restarts: list[str] = []
        with (report / "locust.log").open("wb") as log:
            process = subprocess.Popen(locust, env=env, stdout=log, stderr=subprocess.STDOUT)
            while process.poll() is None:
                restarts += supervisor.check()
                time.sleep(0.5)
        elapsed = time.monotonic() - began
        self._drain(licensee)
        findings = [f"{name} crashed and was restarted during the run" for name in restarts]
        stats_path = report / "locust_stats.csv"
        if not stats_path.exists():
            return [
                *findings,
                f"Locust wrote no statistics (exit {process.returncode}; see {report}/locust.log)",
            ]
        rows, total = checks.stats_read(stats_path)
        self.stdout.write("\n".join(["", *checks.stats_table(rows, total), ""]))
        self.stdout.write(
            f"Throughput: {total.requests} requests in {elapsed:.0f} s = "
            f"{total.requests / elapsed:.1f} requests a second (Locust: {total.per_second:.1f}/s)"
        )
        driven = {
            entry["call_id"]: entry["talk_seconds"]
            for entry in map(json.loads, talk_log.read_text().splitlines())
        }
        self.stdout.write(f"Calls talked and hung up: {len(driven)}")
        self.stdout.write(f"HTML report: {report / 'report.html'}")
        findings += checks.stats_findings(rows, total)
        if process.returncode != 0:  # a request failed after the statistics were written
            findings.append(f"Locust exited with {process.returncode} (see {report}/locust.log)")
        findings += checks.books_findings(
            licensee=licensee, since=since, callers_domain=LOAD_DOMAIN, driven_talk=driven
        )
        return findings

    @staticmethod
    def _drain(licensee) -> None:
        """Wait (bounded) for what the run left in flight: top-ups whose paid webhook is still
        queued, calls whose last event has not landed."""
        deadline = time.monotonic() + DRAIN_SECONDS
        with tenant_context(licensee):
            while time.monotonic() < deadline:
                pending = TopUp.objects.filter(
                    status=TopUp.Status.PENDING, user__email__endswith=f"@{LOAD_DOMAIN}"
                ).exists()
                running = Call.objects.filter(
                    status__in=[Call.Status.RINGING, Call.Status.CONNECTED],
                    caller__email__endswith=f"@{LOAD_DOMAIN}",
                ).exists()
                if not pending and not running:
                    return
                time.sleep(0.5)
