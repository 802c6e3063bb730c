"""The texts of the notifications projects sends (registered in ProjectsConfig.ready)."""

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.notifications import Template

from .models import InspectionResult


def _inspection(params: Mapping[str, Any]) -> str:
    result = params.get("result")
    values = {
        "code": params.get("code", ""),
        "title": params.get("title", ""),
        "result": InspectionResult(result).label if result in InspectionResult.values else "—",
        "n": params.get("rectifications", 0),
    }
    if values["n"]:
        return _("Project %(code)s “%(title)s” was inspected: %(result)s, %(n)s rectifications to make.") % values
    return _("Project %(code)s “%(title)s” was inspected: %(result)s.") % values


NOTIFICATION_KINDS: dict[str, Template] = {
    "project_turn": gettext_lazy("Project %(code)s “%(title)s”: “%(action)s”. It is your turn to act on it."),
    "report_to_review": gettext_lazy(
        "A progress report on project %(code)s “%(title)s” (period ending %(period)s) waits for your review."
    ),
    "inspection_recorded": _inspection,
    "rectification_due_soon": gettext_lazy("A rectification on project %(code)s is due on %(deadline)s: %(finding)s"),
    "rectification_overdue": gettext_lazy(
        "A rectification on project %(code)s is overdue since %(deadline)s: %(finding)s"
    ),
    "rectification_reported": gettext_lazy(
        "A rectification on project %(code)s was reported done and waits for your verification: %(finding)s"
    ),
    "rectification_sent_back": gettext_lazy(
        "A rectification on project %(code)s was sent back: %(finding)s. Reason: %(reason)s"
    ),
    "handover_to_confirm": gettext_lazy(
        "Project %(code)s “%(title)s” was handed over: confirm the receipt or refuse it with a reason."
    ),
    "handover_confirmed": gettext_lazy("The handover of project %(code)s “%(title)s” was confirmed."),
    "handover_refused": gettext_lazy(
        "The handover of project %(code)s “%(title)s” was refused: %(reason)s. Record it again once put right."
    ),
    "operation_report_missing": gettext_lazy(
        "The operation report of project %(code)s “%(title)s” for %(year)s is missing: file it."
    ),
}
