from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PairingsConfig(AppConfig):
    name = "pairings"
    verbose_name = _("Pairings")

    def ready(self) -> None:
        from core.dashboard import Panel, register_panel
        from core.history import register_action_labels
        from core.navigation import NavItem, register_nav

        from .dashboard import pairings_panel

        register_action_labels(
            {
                "ended": _("ended"),
                "flow_recorded": _("fund flow recorded"),
                "people_deployed": _("people deployed"),
                "training_recorded": _("training recorded"),
                "mandate_computed": _("mandate computed"),
                "mandate_set": _("mandate set by hand"),
                "rule_changed": _("funding rule changed"),
                "corrected": _("corrected"),
            }
        )

        register_nav(NavItem("programmes", _("Programmes"), "pairings:program_list", order=10))
        register_nav(NavItem("pairings", _("Pairings"), "pairings:pairing_list", order=20))
        register_nav(NavItem("revenues", _("Fiscal revenue"), "pairings:revenue_list", order=30))
        register_panel(Panel("pairings", "pairings/panels/pairings.html", pairings_panel, order=20))
