from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = _("Evaluation")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate, post_save

        from core.dashboard import Panel, register_panel
        from core.history import register_action_labels
        from core.navigation import NavItem, register_nav
        from pairings.models import Program

        from .dashboard import evaluation_panel
        from .signals import default_framework_for_new_program, default_frameworks_after_migrate

        post_save.connect(default_framework_for_new_program, sender=Program, dispatch_uid="evaluation-default-fw")
        post_migrate.connect(default_frameworks_after_migrate, sender=self, dispatch_uid="evaluation-default-fws")

        register_action_labels(
            {
                "framework_revised": _("indicator framework revised"),
                "expert_scored": _("expert score given"),
                "satisfaction_rated": _("satisfaction rated"),
                "run_started": _("evaluation run started"),
            }
        )

        register_nav(NavItem("evaluation", _("Evaluation"), "evaluation:dashboard", order=40))
        register_panel(Panel("evaluation", "evaluation/dashboard_panel.html", evaluation_panel, order=40))
