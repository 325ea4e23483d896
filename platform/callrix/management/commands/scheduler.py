from django.core.management.base import BaseCommand

from callrix.schedule import schedule
from kernel import scheduler


class Command(BaseCommand):
    help = (
        "Run the scheduler that queues the periodic jobs of callrix/schedule.py on their UTC "
        "wall-clock schedules; one leader at a time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="queue every periodic job once now, then exit"
        )

    def handle(self, *args, **options):
        if options["once"]:
            queued = scheduler.run_all_now(schedule())
            self.stdout.write(f"Queued {queued} job(s).")
            return
        scheduler.run(jobs=schedule())
