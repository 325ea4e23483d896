"""`callrix worker`: the dramatiq workers, with every app's `tasks` module loaded."""

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand

# An idle worker looks at its delayed jobs this often (dramatiq's default is 1000 ms): a call's
# billing job ends it at the moment its credit runs out, and may be at most a second late
# (docs/decisions/0009-due-time-billing.md).
DELAYED_JOB_POLL_MS = "200"


class Command(BaseCommand):
    help = "Run the background-job workers (dramatiq on Redis)."

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)

    def handle(self, *args, **options):
        # Read by dramatiq when the worker processes start.
        os.environ.setdefault("dramatiq_worker_timeout", DELAYED_JOB_POLL_MS)
        call_command("rundramatiq", processes=options["processes"], threads=options["threads"])
