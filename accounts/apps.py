from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from core.dashboard import Panel, register_panel
        from core.history import register_action_labels
        from core.navigation import NavItem, register_nav
        from core.selectors import recent_history
        from core.worklist import register_page_count

        from . import schema  # noqa: F401  (registers the OpenAPI extension)
        from .policy import is_national_coordinator, may_manage_users
        from .selectors import (
            dashboard_parties_panel,
            dashboard_scope_counts,
            dashboard_scope_panel,
            unread_notifications,
        )

        register_nav(NavItem("directory", _("Directory"), "accounts:directory", order=90, allowed=may_manage_users))
        register_action_labels({"unlocked": _("unlocked")})
        # The bell's count, read in the statement that counts the navigation's waiting work.
        register_page_count("unread", unread_notifications)
        register_panel(
            Panel("scope", "accounts/panels/scope.html", dashboard_scope_panel, order=10, counts=dashboard_scope_counts)
        )
        register_panel(Panel("parties", "accounts/panels/parties.html", dashboard_parties_panel, order=85))
        # Everything that happened lately, whoever it concerned: the national coordinator's oversight.
        register_panel(
            Panel(
                "history",
                "core/panels/history.html",
                lambda request: {"events": recent_history(8)},
                order=95,
                allowed=is_national_coordinator,
            )
        )
