"""Load the real programmes, funding rules and pairings of domain/facts.md (reference data, not demo)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from pairings.reference import ReferenceDataError, load_reference


class Command(BaseCommand):
    help = (
        "Load the Xizang, Wenchuan and Xinjiang programmes with their funding rules, the assisting governments and "
        "the real pairings of domain/facts.md, each row with its source. Idempotent; needs the regions "
        "(manage.py load_regions)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            report = load_reference()
        except ReferenceDataError as exc:
            raise CommandError(f"{exc} Nothing was loaded.") from exc
        except DomainError as exc:
            problems = "; ".join(f"{p.field or '-'}: {p.message}" for p in exc.problems)
            raise CommandError(
                f"The reference data conflicts with existing rows ({problems}). Nothing was loaded."
            ) from exc
        if options["verbosity"] < 1:
            return
        kinds = sorted(set(report.created) | set(report.existing))
        for kind in kinds:
            self.stdout.write(f"{kind:<18} {report.created[kind]:>4} created, {report.existing[kind]:>4} already there")
        for note in report.notes:
            self.stdout.write(f"Note: {note}")
        self.stdout.write(
            self.style.SUCCESS(f"Programmes and pairings loaded in {time.perf_counter() - started:.2f} s.")
        )
