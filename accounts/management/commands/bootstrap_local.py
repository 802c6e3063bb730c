"""First-run set-up for `make run`: reference data and demo users, then the URL and the logins."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from core.models import Region


class Command(BaseCommand):
    help = "Load reference data and demo users when missing, then print the URL and the demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", default="8000")

    def handle(self, *args: object, **options: object) -> None:
        if not Region.objects.exists():
            self.stdout.write("Loading the administrative divisions (first run)…")
            call_command("load_regions", verbosity=0)
        if getattr(settings, "DUIKOU_DEMO_ENABLED", False):
            call_command("seed_demo", verbosity=0)
            # Later apps add their reference programmes and demo figures through this hook.
            # Each entry is a command name, or a list: the name and its arguments.
            for entry in getattr(settings, "DUIKOU_BOOTSTRAP_COMMANDS", []):
                name, *arguments = [entry] if isinstance(entry, str) else entry
                call_command(name, *arguments, verbosity=0)
        from accounts.demo import USERS

        url = f"http://127.0.0.1:{options['port']}/"
        lines = [
            "",
            "Duikou is starting at " + url,
            f"Demo users (password: {settings.DUIKOU_DEMO_PASSWORD}):",
            *[f"  {u.username:<22} {', '.join(u.roles):<22} {u.note}" for u in USERS],
            "",
        ]
        self.stdout.write("\n".join(lines))
