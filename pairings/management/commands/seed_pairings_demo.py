"""Synthetic demo figures on the real pairings: revenues, mandates, flows, people (local settings only)."""

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from pairings.demo import MissingReferenceData, seed_pairings_demo


class Command(BaseCommand):
    help = (
        "Add synthetic fiscal revenues, mandates, fund flows, deployments and trainings (all flagged synthetic) to "
        "the pairings loaded by load_programs. Local settings only (DUIKOU_DEMO_ENABLED); idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not getattr(settings, "DUIKOU_DEMO_ENABLED", False):
            raise CommandError("Demo data is only for local settings (DUIKOU_DEMO_ENABLED); refusing to seed here.")
        started = time.perf_counter()
        try:
            report = seed_pairings_demo()
        except MissingReferenceData as exc:
            raise CommandError(f"Load the programmes first (manage.py load_programs): {exc}.") from exc
        except DomainError as exc:
            problems = "; ".join(f"{p.field or '-'}: {p.message}" for p in exc.problems)
            raise CommandError(f"The demo figures could not be written ({problems}). Nothing was written.") from exc
        if options["verbosity"] < 1:
            return
        for kind in sorted(set(report.created) | set(report.skipped)):
            self.stdout.write(f"{kind:<26} {report.created[kind]:>5} created, {report.skipped[kind]:>5} already there")
        for note in report.notes:
            self.stdout.write(f"Note: {note}")
        self.stdout.write(self.style.SUCCESS(f"Synthetic demo figures ready in {time.perf_counter() - started:.2f} s."))
