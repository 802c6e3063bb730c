from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from .dashboard import Panel, register_panel
        from .navigation import NavItem, register_nav
        from .selectors import recent_history, region_counts

        register_nav(NavItem("dashboard", _("Dashboard"), "core:dashboard", order=0))
        register_nav(NavItem("regions", _("Regions"), "core:regions", order=80))
        register_panel(
            Panel("regions", "core/panels/regions.html", lambda request: {"counts": region_counts()}, order=90)
        )
        register_panel(
            Panel(
                "history",
                "core/panels/history.html",
                lambda request: {"events": recent_history(8)},
                order=95,
                roles=frozenset({"national_coordinator"}),
            )
        )
