"""generate_projects: a deterministic synthetic data set of N projects, for scale tests and the benchmark.

    manage.py generate_projects --projects 100000 [--seed 1] [--replace] [--database-url postgres://…/duikou_bench]

Writes projects spread over the loaded programmes' pairings, states, years 2008–2026, categories and sectors, with
their lifecycle history, progress reports, inspections, rectifications and linked fund flows, all marked synthetic.
Loads the regions and the programmes first when there are no pairings.

It bypasses the services for speed (bulk inserts in batches; see `projects/synthetic.py` for what it guarantees
instead and what it does not synthesise). It refuses to run when synthetic projects exist, unless `--replace`, which
deletes them with their rows first — history events included, by SQL: the one place that deletes history events
(HistoryEvent is append-only through the ORM), and only those of synthetic projects.

`--database-url` points this run at another database than the settings' (the benchmark's, say), which must be
migrated already.
"""

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from pairings.models import Pairing
from projects import synthetic
from projects.models import Project


def use_database(url: str) -> None:
    """Point the default connection of this process at URL (same options as the settings' DATABASE_URL)."""
    from config.settings.base import database_config

    connections["default"].close()
    connections.settings["default"] = connections.configure_settings({"default": database_config(url)})["default"]
    connections["default"] = connections.create_connection("default")


class Command(BaseCommand):
    help = (
        "Generate N synthetic projects (deterministic per seed) with history, progress reports, inspections, "
        "rectifications and fund flows, all flagged synthetic, for scale tests and bench/. Refuses when synthetic "
        "projects exist unless --replace."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--projects", type=int, required=True, help="How many projects (e.g. 100000).")
        parser.add_argument("--seed", type=int, default=1, help="The same seed gives the same data set (default 1).")
        parser.add_argument(
            "--replace", action="store_true", help="Delete the synthetic projects there are (and their rows) first."
        )
        parser.add_argument("--database-url", default="", help="Write to this database instead of the settings' one.")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when synthetic projects exist (for `make run`)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n = options["projects"]
        if n < 1:
            raise CommandError("--projects must be at least 1.")
        if options["database_url"]:
            use_database(options["database_url"])
        verbose = options["verbosity"] >= 1
        if options["if_empty"] and Project.objects.filter(is_synthetic=True).exists():
            return
        started = time.perf_counter()
        if not Pairing.objects.exists():
            if verbose:
                self.stdout.write("No pairings yet: loading the regions and the programmes first.")
            call_command("load_regions", verbosity=0)
            call_command("load_programs", verbosity=0)
        try:
            report = synthetic.generate(
                projects=n,
                seed=options["seed"],
                replace=options["replace"],
                progress=self.stdout.write if options["verbosity"] >= 2 else None,
            )
        except synthetic.AlreadyGenerated as exc:
            raise CommandError(
                f"{exc.count} synthetic projects exist already; run with --replace to delete them (and their "
                "history, reports, inspections, rectifications and flows) and generate again."
            ) from exc
        except synthetic.MissingReferenceData as exc:
            raise CommandError(f"Nothing to spread projects over: {exc}. Run load_programs.") from exc
        if not verbose:
            return
        for what, count in report.deleted.items():
            self.stdout.write(f"deleted  {what:<38} {count:>9}")
        for what, count in report.created.items():
            self.stdout.write(f"created  {what:<38} {count:>9}  ({count / n:.2f} per project)")
        states = ", ".join(f"{state} {count}" for state, count in report.states.most_common())
        self.stdout.write(f"states   {states}")
        self.stdout.write(f"ids      {report.first_id}…{report.last_id}")
        t = report.timings
        self.stdout.write(
            self.style.SUCCESS(
                f"{n} synthetic projects (seed {options['seed']}) in {time.perf_counter() - started:.1f} s: "
                + ", ".join(f"{k} {v:.1f} s" for k, v in t.items() if k != "total")
                + f" ({n / t['total']:.0f} projects/s)."
            )
        )
