from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Connects the Celery signal handlers that carry request ids into tasks and count task outcomes.
        from . import observability  # noqa: F401
        from .api.messages import use_plain_messages
        from .dashboard import Panel, register_panel
        from .navigation import NavItem, register_nav
        from .selectors import region_counts

        # DRF's messages that mix a type name or a pattern into their Chinese, replaced once before any serializer.
        use_plain_messages()
        register_nav(NavItem("dashboard", _("Dashboard"), "core:dashboard", order=0))
        register_nav(NavItem("regions", _("Regions"), "core:regions", order=80))
        register_panel(
            Panel("regions", "core/panels/regions.html", lambda request: {"counts": region_counts()}, order=90)
        )
