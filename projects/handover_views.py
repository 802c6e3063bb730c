"""The handover's and the operation reports' pages: each form on GET (refused at once, 403, for a user the
policy forbids; a step the handover has moved past is said on the project page), the service on POST, its
refusals on the form with what was typed kept (an uploaded file too: core/uploads.py)."""

from collections.abc import Callable
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import uploads as kept_uploads
from core.errors import Conflict
from core.forms import add_more_problems

from . import handover_selectors, handover_services, policy
from .handover_forms import HandoverConfirmForm, HandoverForm, HandoverRefuseForm, OperationReportForm
from .models import Handover, HandoverStatus, Project
from .views import _handle, _project_or_404, _user


def _back(pk: int) -> HttpResponse:
    return redirect(reverse("projects:project_detail", args=[pk]) + "#handover")


def _handover(project: Project) -> Handover | None:
    return Handover.objects.select_related("receiving_organization", "asset_register").filter(project=project).first()


def _allowed(request: HttpRequest, decision: Any, pk: int) -> HttpResponse | None:
    """A user the policy forbids gets 403; a step the handover has moved past goes back to the project page with
    the reason said; None when the step may be taken."""
    if decision.forbidden:
        raise DjangoPermissionDenied(str(decision.message))
    if not decision:
        messages.warning(request, str(decision.message))
        return _back(pk)
    return None


def _run(
    request: HttpRequest,
    form: Any,
    pk: int,
    call: Callable[[], Any],
    success: Callable[[Any], str],
    fields: dict[str, str] | None = None,
) -> HttpResponse | None:
    """The service CALL for a valid FORM. Done: back to the project page saying SUCCESS (of what it returned), an
    upload kept for a form with files discarded. Refused: None, the service's problems on FORM (under FIELDS' names). The
    handover moved on meanwhile (a conflict): back to the project page saying so."""
    try:
        done = _handle(form, call, fields, passthrough=(Conflict,))
    except Conflict as exc:
        messages.warning(request, str(exc.message))
        return _back(pk)
    if done is None:
        return None
    if _files(type(form)):
        kept_uploads.discard(request)
    messages.success(request, success(done))
    return _back(pk)


def _files(form_class: type[django_forms.Form]) -> list[str]:
    return [n for n, f in form_class.base_fields.items() if isinstance(f, django_forms.FileField)]


def _keep(request: HttpRequest, form: Any, uploads: Any) -> None:
    """A file attached to a refused submit comes back with the form (one the form itself refused does not)."""
    if uploads:
        accepted = uploads.copy()
        for name in form.errors:
            accepted.pop(name, None)
        form.kept_uploads = kept_uploads.keep(request, accepted)


def _page(request: HttpRequest, project: Project, form: Any, title: str, explain: str = "", files: bool = False):  # type: ignore[no-untyped-def]
    return render(
        request,
        "projects/form.html",
        {"form": form, "project": project, "title": title, "explain": explain, "files": files},
    )


@login_required
def handover_record(request: HttpRequest, pk: int) -> HttpResponse:
    """The assisting side records the handover (again after a refusal: the form starts from the refused one)."""
    project = _project_or_404(request, pk)
    user = _user(request)
    existing = _handover(project)
    if (answer := _allowed(request, policy.may_record_handover(user, project, existing), pk)) is not None:
        return answer
    posted = request.method == "POST"
    uploads = kept_uploads.restore(request, _files(HandoverForm)) if posted else None
    initial: dict[str, Any] = {"date": timezone.localdate()}
    if existing is not None:
        initial.update(
            receiving_organization=existing.receiving_organization_id,
            receiving_name=existing.receiving_name,
            asset_value=existing.asset_value,
            asset_register=existing.asset_register_id,
            date=existing.date,
        )
    form = HandoverForm(request.POST or None, uploads or None, project=project, initial=initial)
    if posted and form.is_valid():
        d = form.cleaned_data
        answer = _run(
            request,
            form,
            pk,
            lambda: handover_services.handover_record(
                by=user,
                project=project,
                date=d["date"],
                asset_value=d["asset_value"],
                receiving_organization=d.get("receiving_organization"),
                receiving_name=d.get("receiving_name") or "",
                asset_register=d.get("asset_register"),
                asset_register_file=d.get("asset_register_file"),
            ),
            lambda _done: _("Handover recorded: it waits for the recipient side's confirmation."),
        )
        if answer is not None:
            return answer
    elif posted:
        # Every mistake after one submit: the service's own checks of what the form did accept.
        d = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
        problems, _read = handover_services.handover_problems(
            project,
            date=d.get("date") or timezone.localdate(),
            receiving_organization=d.get("receiving_organization"),
            receiving_name=d.get("receiving_name") or "",
            asset_value=d.get("asset_value") or 1,
            asset_register=d.get("asset_register"),
        )
        add_more_problems(form, problems)
    if posted:
        _keep(request, form, uploads)
    explain = ""
    if existing is not None and existing.status == HandoverStatus.REFUSED:
        explain = _("The recipient side refused the handover: %(reason)s") % {"reason": existing.refusal_reason}
    return _page(request, project, form, _("Record the handover"), explain, files=True)


@login_required
def handover_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """The recipient side confirms the receipt: the handover's summary on GET, the confirmation on POST."""
    project = _project_or_404(request, pk)
    user = _user(request)
    handover = _handover(project)
    if (answer := _allowed(request, policy.may_confirm_handover(user, project, handover), pk)) is not None:
        return answer
    form = HandoverConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        answer = _run(
            request,
            form,
            pk,
            lambda: handover_services.handover_confirm(by=user, project=project),
            lambda _done: _("Handover confirmed. From now on, file an operation report each year."),
        )
        if answer is not None:
            return answer
    assert handover is not None  # noqa: S101 — the policy refuses when there is none
    explain = _("Confirm that %(receiver)s received the assets handed over on %(date)s.") % {
        "receiver": handover.receiver,
        "date": handover.date.isoformat(),
    }
    return _page(request, project, form, _("Confirm the handover"), explain)


@login_required
def handover_refuse(request: HttpRequest, pk: int) -> HttpResponse:
    """The recipient side refuses the handover, with the reason (kept on the form when refused)."""
    project = _project_or_404(request, pk)
    user = _user(request)
    handover = _handover(project)
    if (answer := _allowed(request, policy.may_refuse_handover(user, project, handover), pk)) is not None:
        return answer
    form = HandoverRefuseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        answer = _run(
            request,
            form,
            pk,
            lambda: handover_services.handover_refuse(by=user, project=project, reason=form.cleaned_data["reason"]),
            lambda _done: _("Handover refused. The assisting side is told the reason."),
        )
        if answer is not None:
            return answer
    return _page(request, project, form, _("Refuse the handover"))


@login_required
def operation_report_create(request: HttpRequest, pk: int) -> HttpResponse:
    """The recipient side files a year's operation report, with photos."""
    project = _project_or_404(request, pk)
    user = _user(request)
    handover = _handover(project)
    if (answer := _allowed(request, policy.may_file_operation_report(user, project, handover), pk)) is not None:
        return answer
    filed = set(project.operation_reports.values_list("year", flat=True))
    years = handover_selectors.reportable_years(handover, filed)
    if not years:
        messages.info(request, _("Every year's operation report has been filed."))
        return _back(pk)
    posted = request.method == "POST"
    uploads = kept_uploads.restore(request, _files(OperationReportForm)) if posted else None
    form = OperationReportForm(request.POST or None, uploads or None, years=years)
    if posted and form.is_valid():
        d = dict(form.cleaned_data)
        photos = [d.pop(name) for name in OperationReportForm.PHOTO_FIELDS if d.get(name)]
        for name in OperationReportForm.PHOTO_FIELDS:
            d.pop(name, None)
        names = [n for n in OperationReportForm.PHOTO_FIELDS if form.cleaned_data.get(n)]
        fields = {f"photos.{i}": name for i, name in enumerate(names)}
        answer = _run(
            request,
            form,
            pk,
            lambda: handover_services.operation_report_file(by=user, project=project, photos=photos, **d),
            lambda done: _("Operation report for %(year)s filed.") % {"year": done.year},
            fields,
        )
        if answer is not None:
            return answer
    elif posted:
        d = {
            k: v
            for k, v in form.cleaned_data.items()
            if k not in form.errors and k not in (*form.PHOTO_FIELDS, "notes")
        }
        problems, _read = handover_services.operation_report_problems(
            project, handover, **{"year": years[0], "status": "in_use", **d}
        )
        add_more_problems(form, [p for p in problems if p.field in d])
    if posted:
        _keep(request, form, uploads)
    return _page(request, project, form, _("File an operation report"), files=True)
