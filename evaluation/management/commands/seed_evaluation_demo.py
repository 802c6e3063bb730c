"""seed_evaluation_demo: finished evaluation runs for `make run`, so that the rankings, the scorecards and the run
pages have something to show on the demo data.

For every programme: its last year that can be evaluated and the year before (the later run's trend arrows compare
with the earlier), run as the nightly job runs them (no requester). Celery runs eagerly under `make run`, so the
runs have finished when this returns. Idempotent: a programme-year with a finished run is left alone. Local
settings only, as the rest of the demo data."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from evaluation import services
from evaluation.models import EvaluationRun, RunStatus
from pairings.models import Program


class Command(BaseCommand):
    help = "Run the evaluation of each programme's last two years once, for the demo (local settings only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "DUIKOU_DEMO_ENABLED", False):
            raise CommandError("Demo data is only for local settings (DUIKOU_DEMO_ENABLED); refusing to seed here.")
        started = 0
        for program in Program.objects.order_by("pk"):
            first, last = services._program_years(program)
            for year in range(max(first, last - 1), last + 1):
                if EvaluationRun.objects.filter(program=program, year=year, status=RunStatus.SUCCEEDED).exists():
                    continue
                services.run_start(program=program, year=year, by=None)
                started += 1
        if int(options.get("verbosity", 1)) >= 1:
            self.stdout.write(f"{started} demo evaluation run(s) started.")
