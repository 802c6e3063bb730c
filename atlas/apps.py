from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AtlasConfig(AppConfig):
    """The map: who helps whom, shaded by the figures of the pairings a user sees. It sits above `evaluation`
    beside `exchange` in the import chain, and nothing below imports it."""

    name = "atlas"
    verbose_name = _("Map")

    def ready(self) -> None:
        from core.dashboard import Panel, register_panel
        from core.navigation import NavItem, register_nav

        from .views import dashboard_panel

        register_nav(NavItem("map", _("Map"), "atlas:map", order=45))
        register_panel(Panel("map", "atlas/dashboard_panel.html", dashboard_panel, order=45))
