from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PairingsConfig(AppConfig):
    name = "pairings"
    verbose_name = _("Pairings")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from accounts.models import Organization
        from core import demo_texts
        from core.models import Region
        from core.selectors import names_changed

        from .models import Pairing, Program

        # The names a search word is looked up in (pairings.selectors.named_by): a change leaves the kept lookups.
        for model in (Region, Organization, Program, Pairing):
            for signal in (post_save, post_delete):
                signal.connect(names_changed, sender=model, dispatch_uid=f"search-names-{signal}-{model.__name__}")
        from core.dashboard import Panel, register_panel
        from core.history import register_action_labels
        from core.navigation import NavItem, register_nav

        from . import demo_texts as pairing_demo_texts
        from . import rollups as _rollups  # noqa: F401  (registers the flows' rollup with core.rollups)
        from .dashboard import pairings_counts, pairings_panel

        demo_texts.register(pairing_demo_texts.pairs())

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
        # "Revenue" in the menu (the page's title says "Fiscal revenue"): the English menu then fits one row at 1366 px.
        register_nav(NavItem("revenues", _("Revenue"), "pairings:revenue_list", order=30))
        register_panel(
            Panel("pairings", "pairings/panels/pairings.html", pairings_panel, order=20, counts=pairings_counts)
        )
