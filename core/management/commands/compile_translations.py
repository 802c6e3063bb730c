"""Compile locale/*/LC_MESSAGES/*.po into .mo with polib, so installing needs no GNU gettext."""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile the committed .po catalogues into .mo files (only those that changed)."
    # Runs before the database exists (first step of `make run`, and at image build time).
    requires_system_checks: list[str] = []

    def handle(self, *args: object, **options: object) -> None:
        compiled = 0
        for root in settings.LOCALE_PATHS:
            for po_path in sorted(Path(root).glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                try:
                    catalogue = polib.pofile(str(po_path))
                except (OSError, ValueError) as exc:
                    raise CommandError(f"{po_path}: {exc}") from exc
                catalogue.save_as_mofile(str(mo_path))
                compiled += 1
                if int(str(options.get("verbosity", 1))) > 1:
                    self.stdout.write(f"compiled {po_path} ({catalogue.percent_translated()} % translated)")
        if compiled and int(str(options.get("verbosity", 1))) > 0:
            self.stdout.write(f"Compiled {compiled} translation catalogue(s).")
