"""The projects' kinds of work (core.worklist): proposals to approve, reports to review, completed projects to
accept, rectifications due and overdue, reported done (to verify) and sent back, drafts to submit. Each kind's items are one selector of selectors.py."""

import functools

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.demo_texts import in_language
from core.worklist import WorkKind, WorkRow, register_work

from . import handover_selectors, policy, selectors
from .models import Handover, ProgressReport, Project, Rectification


@functools.lru_cache(maxsize=16)
def _project_url_prefix(script_prefix: str, urlconf: str | None) -> str:
    return reverse("projects:project_detail", args=[0]).removesuffix("0/")


def _project_url(pk: int) -> str:
    """The project page's address, from one `reverse` per script prefix and URLconf (a list of a hundred rows
    reversed each of its links)."""
    return f"{_project_url_prefix(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)}{pk}/"


def _pairing(p: Project) -> str:
    return f"{p.pairing.assisting_organization} → {p.pairing.recipient_region}"


def _project_row(p: Project) -> WorkRow:
    return WorkRow(title=f"{p.code} {p.title}", url=_project_url(p.pk), detail=_pairing(p))


def _acceptance_row(p: Project) -> WorkRow:
    step = _("inspection passed: accept it") if getattr(p, "passed", False) else _("acceptance inspection due")
    return WorkRow(
        title=f"{p.code} {p.title}",
        url=_project_url(p.pk),
        due=p.actual_end,
        detail=str(step),
    )


def _report_row(r: ProgressReport) -> WorkRow:
    return WorkRow(
        title=f"{r.project.code} {r.project.title}",
        url=reverse("projects:report_review", args=[r.project_id, r.pk]),
        detail=f"{r.physical_progress} % · {r.period_end:%Y-%m-%d}",
    )


#: What the rectifications' rows read (their projects' long texts and the rest are not loaded).
_RECTIFICATION_FIELDS = ("project_id", "deadline", "finding", "project__code", "project__title")


def _rectification_row(r: Rectification) -> WorkRow:
    return WorkRow(
        title=f"{r.project.code} {r.project.title}",
        url=_project_url(r.project_id) + "#rectifications-table",
        due=r.deadline,
        detail=in_language(r.finding)[:80],
    )


def _reported_row(r: Rectification) -> WorkRow:
    return WorkRow(
        title=f"{r.project.code} {r.project.title}",
        url=_project_url(r.project_id) + "#rectifications-table",
        due=r.deadline,
        detail=f"{in_language(r.finding)[:60]} · {r.report_text[:60]}",
    )


def _sent_back_row(r: Rectification) -> WorkRow:
    return WorkRow(
        title=f"{r.project.code} {r.project.title}",
        url=_project_url(r.project_id) + "#rectifications-table",
        due=r.deadline,
        detail=f"{in_language(r.finding)[:60]} · {r.send_back_reason[:60]}",
    )


def _missing_report_row(h: Handover) -> WorkRow:
    p = h.project
    missing = getattr(h, "missing", 1)
    return WorkRow(
        title=f"{p.code} {p.title}",
        url=_project_url(p.pk) + "#handover",
        detail=str(
            ngettext(
                "%(n)s yearly operation report missing since the handover in %(year)s",
                "%(n)s yearly operation reports missing since the handover in %(year)s",
                missing,
            )
            % {"n": missing, "year": getattr(h, "first_year", h.date.year)}
        ),
    )


def register() -> None:
    register_work(
        WorkKind(
            "operation_reports_missing",
            _("Operation reports missing"),
            handover_selectors.missing_reports_for,
            _missing_report_row,
            action=_("File the report"),
            order=45,
            allowed=policy.sees_missing_operation_reports,
            urgent=True,
        )
    )
    for kind in (
        WorkKind(
            "proposals",
            _("Proposals to approve"),
            selectors.proposals_to_approve,
            _project_row,
            action=_("Approve or return"),
            order=10,
            allowed=selectors.may_approve,
        ),
        WorkKind(
            "reports",
            _("Progress reports to review"),
            selectors.reports_to_review,
            _report_row,
            action=_("Review"),
            order=20,
            allowed=policy.may_review_report,
        ),
        WorkKind(
            "rectifications_overdue",
            _("Rectifications overdue"),
            selectors.rectifications_overdue,
            _rectification_row,
            due="deadline",
            order=30,
            allowed=selectors.concerned_by_rectifications,
            urgent=True,
            fields=_RECTIFICATION_FIELDS,
        ),
        WorkKind(
            "rectifications_due",
            _("Rectifications due"),
            selectors.rectifications_due,
            _rectification_row,
            due="deadline",
            order=35,
            allowed=selectors.concerned_by_rectifications,
            fields=_RECTIFICATION_FIELDS,
        ),
        WorkKind(
            "rectifications_reported",
            _("Rectifications reported done, to verify"),
            selectors.rectifications_to_verify,
            _reported_row,
            action=_("Verify or send back"),
            due="deadline",
            order=32,
            allowed=selectors.may_verify_rectification,
            fields=(*_RECTIFICATION_FIELDS, "report_text"),
        ),
        WorkKind(
            "rectifications_sent_back",
            _("Rectifications sent back"),
            selectors.rectifications_sent_back,
            _sent_back_row,
            action=_("Put right and report again"),
            due="deadline",
            order=33,
            allowed=selectors.may_report_rectification,
            fields=(*_RECTIFICATION_FIELDS, "send_back_reason"),
        ),
        WorkKind(
            "acceptance",
            _("Completed projects to accept"),
            selectors.acceptance_due,
            _acceptance_row,
            due="actual_end",
            order=40,
            allowed=selectors.may_accept,
        ),
        WorkKind(
            "drafts",
            _("Drafts to submit"),
            selectors.drafts_to_submit,
            _project_row,
            action=_("Submit"),
            order=50,
            allowed=selectors.may_submit,
        ),
    ):
        register_work(kind)
