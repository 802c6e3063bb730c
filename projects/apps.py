from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Projects")

    def ready(self) -> None:
        from accounts.notifications import register_kinds as register_notification_kinds
        from core import demo_texts
        from core.dashboard import Panel, register_panel
        from core.history import register_action_labels
        from core.navigation import NavItem, register_nav
        from core.worklist import waiting_total_for_request
        from pairings.checks import register_project_counter
        from pairings.services import register_project_check

        from . import rollups as _rollups  # noqa: F401  (registers the projects' rollup with core.rollups)
        from . import synthetic_texts, work
        from .dashboard import projects_panel, waiting_panel
        from .models import Project
        from .notifications import NOTIFICATION_KINDS
        from .selectors import project_belongs_to_pairing
        from .services import ACTIONS

        demo_texts.register(synthetic_texts.pairs())
        register_panel(Panel("projects", "projects/panels/projects.html", projects_panel, order=30))
        # What waits leads the home, before any figure.
        register_panel(Panel("waiting", "projects/panels/waiting.html", waiting_panel, order=1))
        work.register()
        register_project_check(project_belongs_to_pairing)
        register_project_counter(lambda code: Project.objects.filter(pairing__program__code=code).count())

        register_nav(NavItem("projects", _("Projects"), "projects:project_list", order=25))
        register_nav(
            NavItem("tasks", _("My tasks"), "projects:my_tasks", order=26, request_badge=waiting_total_for_request)
        )
        # Suspected duplicates are reached from the project list (for national users), not the menu: a national
        # coordinator's menu must stay on one row at 1366 px (tests/browser/test_notifications.py).
        register_action_labels({name: a.label for name, a in ACTIONS.items()})
        register_notification_kinds(NOTIFICATION_KINDS)
        register_action_labels(
            {
                "budget_revised": _("budget revised"),
                "milestone_added": _("milestone added"),
                "progress_reported": _("progress reported"),
                "report_reviewed": _("progress report reviewed"),
                "inspected": _("inspection recorded"),
                "rectification_closed": _("rectification closed"),
                "rectification_reported": _("rectification reported done"),
                "rectification_verified": _("rectification verified"),
                "rectification_sent_back": _("rectification sent back"),
                "document_added": _("document attached"),
                "duplicate_dismissed": _("confirmed not a duplicate"),
                "handover_recorded": _("handover recorded"),
                "handover_confirmed": _("handover confirmed"),
                "handover_refused": _("handover refused"),
                "operation_reported": _("operation report filed"),
            }
        )
