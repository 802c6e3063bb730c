from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import USERS, MissingRegions, seed_demo


class Command(BaseCommand):
    help = "Create the demo organizations and one demo user per role (local settings only)."

    def handle(self, *args: object, **options: object) -> None:
        if not getattr(settings, "DUIKOU_DEMO_ENABLED", False):
            raise CommandError("Demo data is only for local settings (DUIKOU_DEMO_ENABLED); refusing to seed here.")
        try:
            created = seed_demo()
        except MissingRegions as exc:
            raise CommandError(f"Load the regions first (manage.py load_regions); missing codes: {exc}") from exc
        if int(str(options.get("verbosity", 1))) < 1:
            return
        self.stdout.write(
            f"Demo data ready: {created['organizations']} organization(s) and {created['users']} user(s) created; "
            f"{len(USERS)} demo users in all."
        )
