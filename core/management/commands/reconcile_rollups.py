"""`manage.py reconcile_rollups [--repair]`: check the rollups against their rows (see core.rollups)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from core import rollups


class Command(BaseCommand):
    help = "Check every rollup against the rows it adds up; --repair rebuilds those that differ."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repair", action="store_true", help="rebuild a rollup that differs from its rows")

    def handle(self, *args: Any, repair: bool = False, **options: Any) -> None:
        report = rollups.reconcile(repair=repair)
        for name, found in report.items():
            if not found:
                self.stdout.write(f"{name}: exact")
                continue
            self.stdout.write(f"{name}: {len(found)} difference(s){', rebuilt' if repair else ''}")
            for d in found[:10]:
                self.stdout.write(f"  {d.key}: stored {d.stored}, rows {d.live}")
        if any(report.values()) and not repair:
            raise SystemExit(1)
