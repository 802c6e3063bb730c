from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    """Data exchange: exports and PDF reports, spreadsheet imports, webhooks, IATI XML and the event feed. It sits
    above `evaluation` in the import chain and nothing below imports it."""

    name = "exchange"
    verbose_name = _("Data exchange")

    def ready(self) -> None:
        from accounts.notifications import register_kinds as register_notification_kinds
        from core.history import register_action_labels
        from core.navigation import NavItem, register_nav

        # Webhooks: the receivers that turn history events into webhook events, and the tasks that deliver them.
        from . import signals, webhook_tasks  # noqa: F401

        register_action_labels(
            {"secret_rotated": _("secret rotated"), "deleted": _("deleted"), "overdue": _("overdue")}
        )
        register_action_labels({"committed": _("import committed")})
        register_notification_kinds(
            {
                "export_ready": _("Your export %(name)s is ready to download."),
                "export_failed": _("Your export %(name)s failed."),
            }
        )
        # One entry for everyone signed in (everyone exports); its page leads on to imports and webhooks for those
        # their policies allow (exchange_subnav), so the menu stays one line wide.
        register_nav(NavItem("exchange", _("Data exchange"), "exchange:home", order=85))
