from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from core.dashboard import Panel, register_panel
        from core.navigation import NavItem, register_nav

        from . import schema  # noqa: F401  (registers the OpenAPI extension)
        from .selectors import dashboard_parties_panel, dashboard_scope_panel

        register_nav(
            NavItem(
                "directory",
                _("Users & organizations"),
                "accounts:directory",
                order=90,
                roles=frozenset({"national_coordinator"}),
            )
        )
        register_panel(Panel("scope", "accounts/panels/scope.html", dashboard_scope_panel, order=10))
        register_panel(Panel("parties", "accounts/panels/parties.html", dashboard_parties_panel, order=85))
