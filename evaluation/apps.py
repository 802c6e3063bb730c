from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = _("Evaluation")

    def ready(self) -> None:
        from accounts.notifications import register_kinds as register_notification_kinds
        from core.dashboard import Panel, register_panel
        from core.history import register_action_labels
        from core.navigation import NavItem, register_nav
        from pairings.services import register_program_hook

        from . import work
        from .dashboard import evaluation_panel
        from .services import framework_follow_programme

        # A programme's default indicator framework is made with the programme, by the programme service.
        register_program_hook(framework_follow_programme)
        work.register()

        register_action_labels(
            {
                "framework_revised": _("indicator framework revised"),
                "expert_scored": _("expert score given"),
                "satisfaction_rated": _("satisfaction rated"),
                "run_started": _("evaluation run started"),
            }
        )
        register_notification_kinds(
            {
                "run_succeeded": _("Evaluation run #%(run)s of %(program)s %(year)s finished."),
                "run_failed": _("Evaluation run #%(run)s of %(program)s %(year)s failed."),
            }
        )

        register_nav(NavItem("evaluation", _("Evaluation"), "evaluation:dashboard", order=40))
        register_panel(Panel("evaluation", "evaluation/dashboard_panel.html", evaluation_panel, order=40))
