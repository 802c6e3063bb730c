"""Check the loaded reference data against what the published sources say (pairings/checks.py)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from pairings.checks import run_checks


class Command(BaseCommand):
    help = (
        "Check the programmes and pairings against the published figures: Wenchuan's 20 pairings from 19 provinces, "
        "Xinjiang's 19 parties covering the 82 county-level units of 2010 and 12 divisions, Xizang's assisting "
        "provinces, current region codes, one active pairing per county-level unit; and compare the data with "
        "published totals. Exits non-zero when a check fails."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        checks = run_checks()
        failed = [c for c in checks if not c.passed]
        for c in checks:
            mark = "info" if c.informational else ("ok" if c.passed else "FAIL")
            line = f"[{mark:>4}] {c.name}: expected {c.expected}; found {c.found}"
            self.stdout.write(self.style.ERROR(line) if not c.passed else line)
        checked = sum(1 for c in checks if not c.informational)
        if failed:
            raise CommandError(f"{len(failed)} of {checked} reference checks failed.")
        self.stdout.write(self.style.SUCCESS(f"All {checked} reference checks passed."))
