"""`callrix worker`: the dramatiq workers, with every app's `tasks` module loaded."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the background-job workers (dramatiq on Redis)."

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4)

    def handle(self, *args, **options):
        call_command("rundramatiq", processes=options["processes"], threads=options["threads"])
