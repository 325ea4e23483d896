from django.core.management.base import BaseCommand

from callrix.schedule import schedule
from kernel import scheduler


class Command(BaseCommand):
    help = "Run the scheduler that queues periodic jobs (call reconciler, spare-schema pool)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="queue what is due, then exit")

    def handle(self, *args, **options):
        queued = scheduler.run(jobs=schedule(), once=options["once"])
        if options["once"]:
            self.stdout.write(f"Queued {queued} job(s).")
